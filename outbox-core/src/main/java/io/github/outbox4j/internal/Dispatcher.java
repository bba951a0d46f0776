package io.github.outbox4j.internal;

import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends freshly committed messages at once, without waiting for a poll. Messages go into one of a few
 * lanes, each a bounded queue drained in batches by its own thread. A message with a key always goes to
 * the same lane, so per-key ordering can later be had by sending a lane's messages of one key one after
 * the other; messages without a key are spread round-robin.
 *
 * <p>When a lane is full the message is simply not queued: its row is already committed and due for the
 * retry processor at its first-delay time, so nothing is lost and the publisher never waits or fails.
 * Thread-safe.
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final Duration OVERFLOW_LOG_INTERVAL = Duration.ofMinutes(1);

    private final MessageProcessor processor;
    private final List<BlockingQueue<StoredMessage>> lanes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final int batchSize;
    private final Clock clock;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final AtomicLong overflowed = new AtomicLong();
    private volatile Instant lastOverflowLog = Instant.MIN;
    private volatile boolean closing;

    public Dispatcher(MessageProcessor processor, int laneCount, int queueCapacity, int batchSize, Clock clock) {
        this.processor = processor;
        this.batchSize = batchSize;
        this.clock = clock;
        int perLane = Math.max(1, queueCapacity / laneCount);
        NamedThreadFactory threadFactory = new NamedThreadFactory("dispatcher");
        for (int i = 0; i < laneCount; i++) {
            BlockingQueue<StoredMessage> lane = new ArrayBlockingQueue<>(perLane);
            lanes.add(lane);
            threads.add(threadFactory.newThread(() -> drain(lane)));
        }
    }

    /** Starts the lanes' threads; messages offered before are queued and sent then. */
    public void start() {
        threads.forEach(Thread::start);
    }

    /**
     * Queues a committed message for sending. Returns {@code false}, without blocking, when its lane is full
     * or the dispatcher is closing; the retry processor then sends it.
     */
    public boolean offer(StoredMessage message) {
        if (closing) {
            return false;
        }
        String key = message.key();
        int lane = key != null
                ? Math.floorMod(key.hashCode(), lanes.size())
                : Math.floorMod(roundRobin.getAndIncrement(), lanes.size());
        if (lanes.get(lane).offer(message)) {
            return true;
        }
        noteOverflow();
        return false;
    }

    /** Messages not queued because a lane was full, since start. */
    public long overflowed() {
        return overflowed.get();
    }

    private void noteOverflow() {
        long total = overflowed.incrementAndGet();
        Instant now = clock.instant();
        if (now.isAfter(lastOverflowLog.plus(OVERFLOW_LOG_INTERVAL))) {
            lastOverflowLog = now;
            log.warn(
                    "Dispatcher queue full: {} messages so far left to the retry processor, which sends them"
                            + " after outbox.retry.first-delay; raise outbox.dispatcher.queue-capacity or"
                            + " outbox.dispatcher.threads if this persists",
                    total);
        }
    }

    private void drain(BlockingQueue<StoredMessage> lane) {
        List<StoredMessage> batch = new ArrayList<>(batchSize);
        while (!closing || !lane.isEmpty()) {
            try {
                StoredMessage first = lane.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                lane.drainTo(batch, batchSize - 1);
                // a message queued for longer than its first delay is due for the retry processor, which may have
                // claimed it already: sending it here too would only send it twice
                Instant now = clock.instant();
                batch.removeIf(message -> isDueForTheRetryProcessor(message, now));
                if (!batch.isEmpty()) {
                    processor.process(batch);
                }
            } catch (InterruptedException e) {
                // close() gave up waiting: what is still queued is committed and left to the retry processor
                return;
            } catch (RuntimeException | Error e) {
                MessageProcessor.rethrowIfFatal(e);
                log.error("Dispatching {} messages failed; the retry processor takes them over", batch.size(), e);
            } finally {
                batch.clear();
            }
        }
    }

    /** Past its first delay; with a first delay of zero, the dispatcher and the retry processor both may send. */
    private static boolean isDueForTheRetryProcessor(StoredMessage message, Instant now) {
        return message.nextAttemptAt().isAfter(message.addedAt())
                && !message.nextAttemptAt().isAfter(now);
    }

    /**
     * Stops taking messages and lets the lanes finish what they hold, for at most {@code timeout}; what is
     * left then stays committed in the table for the retry processor.
     */
    public void close(Duration timeout) {
        closing = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread thread : threads) {
            if (!thread.isAlive()) {
                continue;
            }
            try {
                long remaining = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                thread.join(remaining);
                if (thread.isAlive()) {
                    thread.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                threads.forEach(Thread::interrupt);
                return;
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
