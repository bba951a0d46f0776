package io.github.outbox4j.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waiting for the engine's asynchronous work: a condition checked every few milliseconds, up to a deadline. */
final class Await {
    private Await() {}

    /** Returns whether {@code condition} became true within {@code timeout}. */
    static boolean until(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }

    /** The same, failing with {@code what} when the deadline passes. */
    static void require(BooleanSupplier condition, Duration timeout, String what) {
        if (!until(condition, timeout)) {
            throw new IllegalStateException("Timed out after " + timeout.toSeconds() + " s waiting for " + what);
        }
    }
}
