package io.github.outbox4j.reliability;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;

/**
 * A database server a test owns and may stop and start again, on the same port with the same data, while its
 * clients keep running. Not thread-safe: one test drives it.
 */
interface PrivateDatabase extends AutoCloseable {
    /** The product, for summaries. */
    String name();

    /** The JDBC URL of its test database, credentials included. */
    String jdbcUrl();

    /**
     * A pool of at most {@code size} connections to its test database that keeps none idle (a stopped server leaves
     * no stale connection behind) and gives up on a connection after {@code connectionTimeout}: a short timeout makes
     * a call during an outage fail fast instead of waiting the default 30 s.
     */
    default HikariDataSource pool(String name, int size, Duration connectionTimeout) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(jdbcUrl());
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(connectionTimeout.toMillis());
        return new HikariDataSource(config);
    }

    /**
     * Stops the server: cleanly (every client is disconnected, then it shuts down), or as a crash (the server
     * process dies at once and recovers from its log at the next start).
     */
    void stop(boolean crash) throws Exception;

    /** Starts it again and waits until it accepts connections. */
    void start() throws Exception;

    /**
     * Freezes the server and its worker processes (SIGSTOP): its connections stay open and nothing answers on them,
     * as in a long pause of its machine or behind a network that drops every packet.
     */
    void freeze();

    /** Lets the frozen server go on (SIGCONT). Does nothing when it is not frozen. */
    void thaw();

    /** Stops it if it runs and deletes its data. */
    @Override
    void close();
}
