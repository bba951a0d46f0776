package io.github.outbox4j.benchmarks;

import io.github.outbox4j.OutboxObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latencies of the messages published in a measurement window, in microseconds, each from two starting points: the
 * time the open-loop schedule meant the transaction to start (carried in the {@value #INTENDED} header, so a
 * publisher that falls behind its schedule shows as latency: no coordinated omission) and the moment the commit
 * returned (kept here by message id). Also what the engine itself reports to its {@link OutboxObserver}: the time
 * from the outbox insert to the acknowledgment, and from the inbox insert to the handler's commit. Thread-safe.
 */
final class LatencyProbe implements OutboxObserver {
    static final String INTENDED = "bench-intended-nanos";
    private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(30);

    final Histogram ackFromIntended = histogram();
    final Histogram ackFromCommit = histogram();
    final Histogram handlerFromIntended = histogram();
    final Histogram handlerFromCommit = histogram();
    final Histogram observedSent = histogram();
    final Histogram observedHandled = histogram();

    private final Map<String, Long> commitNanos = new ConcurrentHashMap<>();
    private final LongAdder acknowledged = new LongAdder();
    private final LongAdder handled = new LongAdder();
    private volatile long measureFrom = Long.MAX_VALUE;

    /** Messages intended from {@code nanoTime} on are recorded; earlier ones are warm-up. */
    void measureFrom(long nanoTime) {
        this.measureFrom = nanoTime;
    }

    void committed(String messageId, long nanoTime) {
        commitNanos.put(messageId, nanoTime);
    }

    void acknowledged(String messageId, Map<String, String> headers) {
        arrived(messageId, headers, acknowledged, ackFromIntended, ackFromCommit);
    }

    void handled(String messageId, Map<String, String> headers) {
        arrived(messageId, headers, handled, handlerFromIntended, handlerFromCommit);
    }

    private void arrived(
            String messageId,
            Map<String, String> headers,
            LongAdder count,
            Histogram fromIntended,
            Histogram fromCommit) {
        long now = System.nanoTime();
        long intended = intended(headers);
        if (intended >= measureFrom) {
            count.increment();
            record(fromIntended, now - intended);
            Long commit = commitNanos.get(messageId);
            if (commit != null) {
                record(fromCommit, now - commit);
            }
        }
    }

    long acknowledgedCount() {
        return acknowledged.sum();
    }

    long handledCount() {
        return handled.sum();
    }

    @Override
    public void sent(String topic, Duration sinceAdded) {
        if (measureFrom != Long.MAX_VALUE) {
            record(observedSent, sinceAdded.toNanos());
        }
    }

    @Override
    public void handled(String topic, String group, Duration sinceReceived) {
        if (measureFrom != Long.MAX_VALUE) {
            record(observedHandled, sinceReceived.toNanos());
        }
    }

    private static long intended(Map<String, String> headers) {
        String value = headers.get(INTENDED);
        return value == null ? Long.MIN_VALUE : Long.parseLong(value);
    }

    private static void record(Histogram histogram, long nanos) {
        histogram.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, TimeUnit.NANOSECONDS.toMicros(nanos))));
    }

    private static Histogram histogram() {
        return new ConcurrentHistogram(HIGHEST_MICROS, 3);
    }
}
