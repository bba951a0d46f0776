package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.ConnectionPublisher;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.testkit.TestServices;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
     * Messages committed during a hold were sent, but their outcome could not be written: the retry processor sent
     * them again after the first delay, so there were more sends than messages.
     */
    @Override
    protected void checkTheEngineWasStruck(EngineCounts counts, int committed) {
        assertThat(counts.sent.sum())
                .as("sends, with those of messages whose outcome could not be written")
                .isGreaterThan(committed);
    }

    @Override
    protected void configurePool(HikariConfig config) {
        config.setMaximumPoolSize(POOL_SIZE);
        config.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
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
