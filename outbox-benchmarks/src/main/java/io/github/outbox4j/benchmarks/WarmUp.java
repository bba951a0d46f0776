package io.github.outbox4j.benchmarks;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * How long a load runs before its window: at least {@code least}, then on until the JIT compiler is quiet, at most
 * {@code most}. On two busy cores the JIT still compiles the library's and the drivers' code 40-70 s after the start:
 * a window opened after a fixed 30 s shared the machine with it (its threads used 8-25 % of the two cores), which is
 * not what a service that has been running for a while sees.
 *
 * <p>Also keeps, for the report, how long each warm-up took and how much of each window the JIT spent compiling.
 * Thread-safe for one load at a time, as the harness runs them.
 */
final class WarmUp {
    /** The span over which the JIT's activity is judged. */
    private static final Duration SPAN = Duration.ofSeconds(5);
    /** Quiet: compiling for less than this share of {@link #SPAN}. */
    private static final double QUIET_SHARE = 0.05;

    private static final Duration STEP = Duration.ofSeconds(1);
    /** The samples kept: those of the last {@link #SPAN}, and half a step more for the steps' jitter. */
    private static final long KEPT_NANOS = SPAN.plus(STEP.dividedBy(2)).toNanos();

    private final Duration least;
    private final Duration most;
    private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    private final List<String> warmUps = new ArrayList<>();
    private final List<Double> windowShares = new ArrayList<>();
    private long windowStartNanos;
    private long windowStartCompiled;

    WarmUp(Duration least, Duration most) {
        this.least = least;
        this.most = most.compareTo(least) < 0 ? least : most;
    }

    /**
     * Runs {@code load} for a second at a time until warm, that is at least {@code least}, and then until the JIT
     * compiled for less than 5 % of the last 5 s, or {@code most} has passed.
     */
    void run(Consumer<Duration> load) {
        long start = System.nanoTime();
        Deque<long[]> samples = new ArrayDeque<>(); // {nanoTime, compiled milliseconds}
        while (true) {
            load.accept(STEP);
            long now = System.nanoTime();
            samples.addLast(new long[] {now, compiledMillis()});
            while (samples.size() > 1 && now - samples.peekFirst()[0] > KEPT_NANOS) {
                samples.removeFirst();
            }
            Duration elapsed = Duration.ofNanos(now - start);
            if (elapsed.compareTo(most) >= 0) {
                record("%d s (JIT still busy)", elapsed);
                return;
            }
            if (elapsed.compareTo(least) >= 0 && quiet(samples)) {
                record("%d s", elapsed);
                return;
            }
        }
    }

    synchronized void windowStarts() {
        windowStartNanos = System.nanoTime();
        windowStartCompiled = compiledMillis();
    }

    synchronized void windowEnds() {
        double windowMillis = (System.nanoTime() - windowStartNanos) / 1e6;
        windowShares.add((compiledMillis() - windowStartCompiled) / windowMillis);
    }

    /**
     * The warm-ups and the JIT's compile time in each window since the last call, for a repeat's line of the report,
     * e.g. {@code warm-up 64 s, 31 s; JIT compile time 0.2 %, 0.0 % of the window}; empty when there was none. The
     * compile time is summed over the compiler's threads, so it can exceed 100 % of a window.
     */
    synchronized String takeSummary() {
        if (warmUps.isEmpty()) {
            return "";
        }
        List<String> shares = windowShares.stream()
                .map(share -> String.format(Locale.ROOT, "%.1f %%", share * 100))
                .toList();
        String summary = "warm-up " + String.join(", ", warmUps)
                + (jit.isCompilationTimeMonitoringSupported()
                        ? "; JIT compile time " + String.join(", ", shares) + " of the window"
                        : "");
        warmUps.clear();
        windowShares.clear();
        return summary;
    }

    /** A line for the report's header. */
    String describe() {
        return least.equals(most)
                ? least.toSeconds() + " s"
                : "at least " + least.toSeconds() + " s, then until the JIT compiler is quiet, at most "
                        + most.toSeconds() + " s";
    }

    private boolean quiet(Deque<long[]> samples) {
        if (!jit.isCompilationTimeMonitoringSupported()) {
            return true;
        }
        long[] first = samples.peekFirst();
        long[] last = samples.peekLast();
        long spanNanos = last[0] - first[0];
        if (spanNanos < SPAN.toNanos() - STEP.toNanos() / 2) {
            return false;
        }
        return (last[1] - first[1]) * 1e6 < QUIET_SHARE * spanNanos;
    }

    private long compiledMillis() {
        return jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private synchronized void record(String format, Duration elapsed) {
        warmUps.add(String.format(Locale.ROOT, format, elapsed.toSeconds()));
    }
}
