package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxSettings;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns at start when the application's connection pool is no larger than what the engine's threads may hold at
 * once: under load, the application's own requests would then wait for a connection behind them. The pool's size
 * comes from Spring Boot's pool metadata (HikariCP, DBCP2, Tomcat, Oracle UCP); a pool it does not know is not
 * checked. The count follows docs/operations.md, "Database connections".
 */
final class ConnectionPoolCheck {
    private static final Logger log = LoggerFactory.getLogger(ConnectionPoolCheck.class);

    private final OutboxSettings settings;
    private final Supplier<Integer> poolMaximum;

    /** {@code poolMaximum} gives the pool's maximum size, or {@code null} (or less than 1) when it is not known. */
    ConnectionPoolCheck(OutboxSettings settings, Supplier<Integer> poolMaximum) {
        this.settings = settings;
        this.poolMaximum = poolMaximum;
    }

    /** Logs the warning if the pool is too small for the engine with these endpoints. */
    void check(List<SubscribeEndpoint> endpoints) {
        Integer maximum = poolMaximum.get();
        if (maximum == null || maximum < 1) {
            return;
        }
        EngineConnections engine = EngineConnections.of(settings, endpoints);
        if (maximum <= engine.total()) {
            log.warn(
                    "The DataSource's connection pool holds at most {} connections, and Outbox4j's threads may hold"
                            + " up to {} at once ({}). Under load the application's requests would wait for a"
                            + " connection behind them. Make the pool larger than the application's own need plus {}"
                            + " (spring.datasource.hikari.maximum-pool-size for HikariCP), or lower"
                            + " outbox.consumer.handler-threads",
                    maximum,
                    engine.total(),
                    engine.describe(),
                    engine.total());
        }
    }

    /** The most connections the engine's threads may hold at the same moment, part by part. */
    record EngineConnections(int recorders, int outboxRetry, int inboxRetry, int consumers, int handlers) {
        private static final int CLEANUP = 1;

        static EngineConnections of(OutboxSettings settings, List<SubscribeEndpoint> endpoints) {
            boolean consumes = !endpoints.isEmpty();
            return new EngineConnections(
                    settings.dispatcherThreads(),
                    settings.retryThreads(),
                    // the inbox's retry processor recruits its other threads only for due received rows
                    consumes ? settings.retryThreads() : 1,
                    endpoints.stream().mapToInt(SubscribeEndpoint::concurrency).sum(),
                    consumes ? settings.handlerThreads() : 0);
        }

        int total() {
            return recorders + outboxRetry + inboxRetry + consumers + handlers + CLEANUP;
        }

        String describe() {
            return recorders + " dispatcher recorders, " + outboxRetry + " outbox retry threads, " + inboxRetry
                    + " inbox retry threads, " + consumers + " consumers, " + handlers + " handler threads, "
                    + CLEANUP + " cleanup";
        }
    }
}
