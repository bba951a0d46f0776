package io.github.outbox4j.testkit;

import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.retry.RetryPolicy;
import java.time.Duration;

/**
 * Engine configuration for tests that kill processes, servers or connections: what a dead worker left behind is
 * taken up within seconds instead of the production defaults' minutes.
 */
public final class FastRecovery {
    private FastRecovery() {}

    /**
     * Polls every 200 ms, gives an attempt 2 s, and leases a claim for 10 s rather than the default 2 min: a claim
     * whose outcome write died with its process, server or connection is claimed again soon.
     */
    public static OutboxSettings settings() {
        return OutboxSettings.builder()
                .pollInterval(Duration.ofMillis(200))
                .attemptTimeout(Duration.ofSeconds(2))
                .lease(Duration.ofSeconds(10))
                .build();
    }

    /**
     * A row committed but not sent (or stored but not handled) is due {@code firstDelay} after it was added, then
     * every second, for up to {@code maxAttempts} attempts.
     */
    public static RetryPolicy policy(Duration firstDelay, int maxAttempts) {
        return RetryPolicy.builder()
                .firstDelay(firstDelay)
                .interval(Duration.ofSeconds(1))
                .maxAttempts(maxAttempts)
                .build();
    }
}
