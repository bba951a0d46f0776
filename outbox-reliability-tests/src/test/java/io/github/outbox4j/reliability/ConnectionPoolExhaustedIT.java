package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import io.github.outbox4j.ConnectionPublisher;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.testkit.TestServices;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A connection pool too small for the load: three times, the test takes every connection of the outbox's pool (4)
 * and holds them for {@link #HOLD}, four times the pool's connection timeout (250 ms), so that every engine thread
 * asking for a connection meanwhile gets HikariCP's timeout error: the dispatcher's recorders cannot mark what they
 * sent, the inbox cannot store what it receives, handlers cannot start their transaction. The publishers commit on
 * a pool of their own through {@link Outbox#publisher(Connection)}, so that messages keep coming during the holds.
 */
class ConnectionPoolExhaustedIT extends AbstractConnectionFaultIT {
    private static final int POOL_SIZE = 4;
    private static final Duration CONNECTION_TIMEOUT = Duration.ofMillis(250);
    private static final Duration HOLD = CONNECTION_TIMEOUT.multipliedBy(4);

    private final LongAdder engineTimeouts = new LongAdder();
    private HikariDataSource publishers;

    @BeforeEach
    void createPublishersPool() {
        HikariConfig config = new HikariConfig();
        config.setPoolName("publishers");
        config.setJdbcUrl(TestServices.postgresUrl());
        config.setMaximumPoolSize(2);
        publishers = new HikariDataSource(config);
    }

    @AfterEach
    void closePublishersPool() {
        if (publishers != null) {
            publishers.close();
        }
    }

    @Override
    protected String publish(Outbox outbox, StockReserved message) throws SQLException {
        try (Connection connection = publishers.getConnection()) {
            connection.setAutoCommit(false);
            ConnectionPublisher publisher = outbox.publisher(connection);
            String id = publisher.publish(TOPIC, message);
            publisher.commit();
            return id;
        }
    }

    /**
     * During each hold the engine's threads asked for connections and got the pool's timeout: the retry processors
     * poll every 200 ms, and the recorders, the inbox and the handlers take one for each write. Whether a message
     * sent during a hold is sent once more depends on who gets a connection first after it (its outcome write, or
     * the retry processor's claim once its first delay is over), so the sends are at least the messages.
     */
    @Override
    protected void checkTheEngineWasStruck(EngineCounts counts, int committed) {
        System.out.printf(
                "[%s] the engine's threads were refused a connection %d times%n", label(), engineTimeouts.sum());
        assertThat(engineTimeouts.sum())
                .as("the engine's threads refused a connection by the pool's timeout")
                .isPositive();
        assertThat(counts.sent.sum()).as("sends").isGreaterThanOrEqualTo(committed);
    }

    @Override
    protected void configurePool(HikariConfig config) {
        config.setMaximumPoolSize(POOL_SIZE);
        config.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
        // HikariCP reports each timeout in the thread that waited: the engine's threads are named outbox-*, the
        // test's own requests (while it takes the connections to hold them) are not counted
        config.setMetricsTrackerFactory((poolName, poolStats) -> new IMetricsTracker() {
            @Override
            public void recordConnectionTimeout() {
                if (Thread.currentThread().getName().startsWith("outbox-")) {
                    engineTimeouts.increment();
                }
            }
        });
    }

    /** Holds every connection of the pool for {@link #HOLD}; returns how many were held. */
    @Override
    protected long injectFault() throws InterruptedException {
        List<Connection> held = new ArrayList<>();
        try {
            while (held.size() < POOL_SIZE) {
                try {
                    held.add(pool.getConnection());
                } catch (SQLException timedOut) {
                    // the engine holds connections too, each for a moment: ask again
                }
            }
            assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isEqualTo(POOL_SIZE);
            // the fault lasts this long: not a wait for asynchronous work
            Thread.sleep(HOLD.toMillis());
            return held.size();
        } finally {
            for (Connection connection : held) {
                try {
                    connection.close();
                } catch (SQLException e) {
                    // returned to the pool or discarded by it: either way no longer held
                }
            }
        }
    }

    @Override
    protected String label() {
        return "connection-pool-exhausted";
    }

    @Override
    protected String faultCount() {
        return "connections held";
    }
}
