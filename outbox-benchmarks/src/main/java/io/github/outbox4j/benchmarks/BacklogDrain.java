package io.github.outbox4j.benchmarks;

import io.github.outbox4j.ConnectionPublisher;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.retry.RetryPolicy;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Item 3: a backlog of N committed messages that no engine has sent (their publisher's engine was never started),
 * then an engine with default settings starts: how fast its retry processor hands them all to the broker, and how
 * much heap that takes. The rows are written due at once (a first delay of zero) so that the drain starts with the
 * first poll instead of four minutes later.
 */
final class BacklogDrain {
    private static final int LOAD_THREADS = 4;
    private static final int LOAD_BATCH = 500;

    record Result(
            long messages,
            double loadRate,
            double drainRate,
            double startMb,
            double peakUsedMb,
            double peakAfterGcMb,
            String storageTime) {
        String describe() {
            return String.format(
                    Locale.ROOT,
                    "%d messages: loaded at %.0f msg/s; drained at %.0f msg/s; heap at start %.0f MB, peak used %.0f MB,"
                            + " peak after GC %.0f MB%n      engine's storage calls: %s",
                    messages,
                    loadRate,
                    drainRate,
                    startMb,
                    peakUsedMb,
                    peakAfterGcMb,
                    storageTime);
        }
    }

    private BacklogDrain() {}

    static Result measure(Run run, long messages) {
        double loadRate = load(run, messages);

        MeasuredTransport transport = run.transport();
        TimedStorage storage = run.timedStorage();
        long deadlineNanos =
                System.nanoTime() + Duration.ofSeconds(120 + messages / 2_000).toNanos();
        try (HeapWatch heap = new HeapWatch();
                Outbox engine = run.outbox(transport, storage).build()) {
            long start = System.nanoTime();
            engine.start();
            while (!Await.until(() -> transport.acknowledged() >= messages, Duration.ofSeconds(10))) {
                Log.detail("drained " + transport.acknowledged() + " of " + messages);
                if (System.nanoTime() > deadlineNanos) {
                    break;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long drained = Math.min(messages, transport.acknowledged());
            if (drained < messages) {
                // the rate so far still tells how fast it goes; the remaining rows are dropped with the run's tables
                Log.detail("deadline passed: drained " + drained + " of " + messages);
                return new Result(
                        messages,
                        loadRate,
                        drained / seconds,
                        heap.startMb(),
                        heap.peakUsedMb(),
                        heap.peakAfterGcMb(),
                        storage.describe()
                                + String.format(
                                        java.util.Locale.ROOT,
                                        " (STOPPED at the deadline after %.1f s: %d of %d drained)",
                                        seconds,
                                        drained,
                                        messages));
            }
            String storageTime =
                    storage.describe() + String.format(java.util.Locale.ROOT, " (drain took %.1f s)", seconds);
            Await.require(
                    () -> engine.storage().countPending(MessageKind.PUBLISHED) == 0,
                    Duration.ofSeconds(60),
                    "every drained row to be recorded SUCCEEDED");
            return new Result(
                    messages,
                    loadRate,
                    messages / seconds,
                    heap.startMb(),
                    heap.peakUsedMb(),
                    heap.peakAfterGcMb(),
                    storageTime);
        }
    }

    /** Commits {@code messages} messages through an outbox that is never started; returns messages per second. */
    private static double load(Run run, long messages) {
        RetryPolicy dueAtOnce = RetryPolicy.builder().firstDelay(Duration.ZERO).build();
        AtomicLong remaining = new AtomicLong(messages);
        long start = System.nanoTime();
        try (Outbox publisherOnly = Outbox.builder()
                .dataSource(run.dataSource())
                .storageOptions(run.names().storageOptions())
                .transport(new InMemoryTransport())
                .retryPolicy(dueAtOnce)
                .build()) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < LOAD_THREADS; t++) {
                Thread thread = new Thread(
                        () -> {
                            try (Connection connection = run.dataSource().getConnection()) {
                                connection.setAutoCommit(false);
                                ConnectionPublisher publisher = publisherOnly.publisher(connection);
                                long batch;
                                while ((batch = take(remaining, LOAD_BATCH)) > 0) {
                                    for (int i = 0; i < batch; i++) {
                                        long orderId = run.workload().nextOrderId();
                                        publisher.publish(run.workload().message(orderId, Map.of()));
                                    }
                                    // committed, but never handed to a dispatcher: the backlog of an engine that is not
                                    // running
                                    connection.commit();
                                }
                            } catch (Exception e) {
                                failures.add(e);
                            }
                        },
                        "bench-loader-" + t);
                threads.add(thread);
                thread.start();
            }
            long lastReport = System.nanoTime();
            for (Thread thread : threads) {
                while (thread.isAlive()) {
                    joinQuietly(thread, 1_000);
                    if (System.nanoTime() - lastReport > 10_000_000_000L) {
                        Log.detail("loaded " + (messages - Math.max(0, remaining.get())) + " of " + messages);
                        lastReport = System.nanoTime();
                    }
                }
            }
            if (!failures.isEmpty()) {
                throw new IllegalStateException("Loading the backlog failed: " + failures.get(0), failures.get(0));
            }
        }
        return messages / ((System.nanoTime() - start) / 1e9);
    }

    private static long take(AtomicLong remaining, int batch) {
        long before = remaining.getAndAdd(-batch);
        return Math.max(0, Math.min(batch, before));
    }

    private static void joinQuietly(Thread thread, long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
