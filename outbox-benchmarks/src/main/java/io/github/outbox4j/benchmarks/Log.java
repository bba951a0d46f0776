package io.github.outbox4j.benchmarks;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/** Progress on standard error, so that standard output and the results file hold only the report. */
final class Log {
    private Log() {}

    static void progress(String message) {
        System.err.println("[bench " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "] " + message);
    }

    static void detail(String message) {
        progress("  " + message);
    }
}
