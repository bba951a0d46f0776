package io.github.outbox4j.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/** The two ways the benchmarks drive transactions: as fast as a number of clients can, or on a fixed schedule. */
final class Load {
    private Load() {}

    /** One transaction; told when it was meant to start ({@link System#nanoTime()}). */
    @FunctionalInterface
    interface Transaction {
        void run(long intendedNanos) throws Exception;
    }

    /**
     * Closed loop: {@code clients} threads each run transactions back to back, through the warm-up and then for
     * {@code window}.
     *
     * @return transactions per second completed within the window
     */
    static double closedLoop(int clients, WarmUp warmUp, Duration window, Transaction transaction) {
        LongAdder completed = new LongAdder();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // both set once warm: until then the clients run on and count nothing
        AtomicLong windowStart = new AtomicLong(Long.MAX_VALUE);
        AtomicLong end = new AtomicLong(Long.MAX_VALUE);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Thread thread = new Thread(
                    () -> {
                        long now;
                        while ((now = System.nanoTime()) < end.get() && failure.get() == null) {
                            try {
                                transaction.run(now);
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                                return;
                            }
                            long finished = System.nanoTime();
                            if (finished >= windowStart.get() && finished < end.get()) {
                                completed.increment();
                            }
                        }
                    },
                    "bench-client-" + i);
            threads.add(thread);
            thread.start();
        }
        warmUp.run(step -> {
            // the clients run on their own: the warm-up only waits, and ends with a client's failure
            parkUntil(System.nanoTime() + step.toNanos());
            throwIfFailed(failure);
        });
        warmUp.windowStarts();
        long start = System.nanoTime();
        windowStart.set(start);
        end.set(start + window.toNanos());
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        warmUp.windowEnds();
        throwIfFailed(failure);
        return completed.sum() / (window.toNanos() / 1e9);
    }

    /** Returns at {@code deadline} ({@link System#nanoTime()}), not before. */
    private static void parkUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    private static void throwIfFailed(AtomicReference<Throwable> failure) {
        if (failure.get() != null) {
            throw new IllegalStateException("A transaction failed: " + failure.get(), failure.get());
        }
    }

    /**
     * Open loop: transactions meant to start every {@code 1/rate} seconds, whether or not earlier ones have finished,
     * run by {@code clients} threads; those that find every client busy wait in a queue, and their latency counts
     * from the time they were meant to start.
     */
    static final class OpenLoop implements AutoCloseable {
        private final ThreadPoolExecutor clients;
        private final LongAdder completed = new LongAdder();
        private final LongAdder failed = new LongAdder();
        private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        private long scheduled;

        OpenLoop(int clients) {
            this.clients = new ThreadPoolExecutor(
                    clients, clients, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), runnable -> {
                        Thread thread = new Thread(runnable, "bench-open-loop");
                        thread.setDaemon(true);
                        return thread;
                    });
        }

        /**
         * Schedules transactions at {@code rate} per second for {@code duration}, calling {@code everySecond} once a
         * second while it does; returns when the last one is scheduled (not finished).
         */
        void run(int rate, Duration duration, Transaction transaction, Runnable everySecond) {
            long period = 1_000_000_000L / rate;
            long start = System.nanoTime();
            long count = duration.toNanos() / period;
            long nextTick = start + 1_000_000_000L;
            for (long i = 0; i < count; i++) {
                long intended = start + i * period;
                parkUntil(intended);
                clients.execute(() -> {
                    try {
                        transaction.run(intended);
                        completed.increment();
                    } catch (Throwable e) {
                        failed.increment();
                        firstFailure.compareAndSet(null, e);
                    }
                });
                scheduled++;
                if (intended >= nextTick) {
                    everySecond.run();
                    nextTick += 1_000_000_000L;
                }
            }
        }

        /** What {@link #warmUpThenMeasure} measured: the rate completed in the window, and how many it scheduled. */
        record Window(double achievedRate, long scheduled) {}

        /**
         * Runs the schedule through {@code warmUp}, calls {@code atWindowStart}, runs {@code window}, and waits at most
         * {@code settle} for every scheduled transaction to finish (throwing the first failure).
         */
        Window warmUpThenMeasure(
                int rate,
                WarmUp warmUp,
                Duration window,
                Transaction transaction,
                Runnable atWindowStart,
                Duration settle) {
            warmUp.run(step -> run(rate, step, transaction, () -> {}));
            long warmupScheduled = scheduled;
            atWindowStart.run();
            warmUp.windowStarts();
            long start = System.nanoTime();
            run(rate, window, transaction, () -> {});
            warmUp.windowEnds();
            awaitCompletion(settle);
            double achieved = (completed() - warmupScheduled) / ((System.nanoTime() - start) / 1e9);
            return new Window(achieved, scheduled - warmupScheduled);
        }

        long scheduled() {
            return scheduled;
        }

        long completed() {
            return completed.sum();
        }

        /** Scheduled but neither finished nor failed yet: the clients are behind their schedule by this many. */
        long behind() {
            return scheduled - completed.sum() - failed.sum();
        }

        /** Waits at most {@code timeout} for every scheduled transaction to finish; throws the first failure. */
        void awaitCompletion(Duration timeout) {
            Await.until(() -> behind() <= 0, timeout);
            if (firstFailure.get() != null) {
                throw new IllegalStateException(
                        failed.sum() + " transactions failed, the first with: " + firstFailure.get(),
                        firstFailure.get());
            }
        }

        @Override
        public void close() {
            clients.shutdownNow();
        }
    }
}
