package io.github.outbox4j.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;

/**
 * Logs a periodic task of the engine that fails run after run, as they all do while the database is down: the first
 * failure at {@code WARN} with its stack trace, then at most one {@code WARN} a minute counting the failures so far,
 * and one {@code INFO} when the task works again. A database restart then costs each task two or three lines, not
 * a stack trace every poll interval. Thread-safe.
 */
final class RepeatedFailureLog {
    static final Duration INTERVAL = Duration.ofMinutes(1);

    private final Logger log;
    private final Clock clock;
    private final String task;
    private int failures;
    private Instant firstFailure;
    private Instant lastWarning;

    /** @param task what the task does, to start a sentence: "Polling due PUBLISHED messages" */
    RepeatedFailureLog(Logger log, Clock clock, String task) {
        this.log = log;
        this.clock = clock;
        this.task = task;
    }

    /** The task failed with {@code error}, and runs again in {@code retryIn}. */
    void failed(Duration retryIn, Throwable error) {
        Instant now = clock.instant();
        int failed;
        Instant since;
        synchronized (this) {
            failures++;
            if (failures == 1) {
                firstFailure = now;
            } else if (now.isBefore(lastWarning.plus(INTERVAL))) {
                log.debug("{} failed again, trying again in {}: {}", task, retryIn, error.toString());
                return;
            }
            lastWarning = now;
            failed = failures;
            since = firstFailure;
        }
        if (failed == 1) {
            log.warn("{} failed, trying again in {}: {}", task, retryIn, error.toString(), error);
        } else {
            log.warn(
                    "{} still fails: {} failures since {}, trying again in {}: {}",
                    task,
                    failed,
                    since.truncatedTo(ChronoUnit.MILLIS),
                    retryIn,
                    error.toString());
        }
    }

    /** The task ran without failing. */
    void succeeded() {
        int failed;
        Instant since;
        synchronized (this) {
            if (failures == 0) {
                return;
            }
            failed = failures;
            since = firstFailure;
            failures = 0;
        }
        log.info(
                "{} works again, after {} {} since {}",
                task,
                failed,
                failed == 1 ? "failure" : "failures",
                since.truncatedTo(ChronoUnit.MILLIS));
    }
}
