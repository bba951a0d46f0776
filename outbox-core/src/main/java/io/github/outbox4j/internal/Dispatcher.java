package io.github.outbox4j.internal;

import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
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
 * <p>A lane only sends: it hands each batch, its sends under way, to the recorders (as many threads as lanes)
 * and takes its next batch at once. A recorder awaits the acknowledgments and writes the outcomes of the batches
 * handed over within a few milliseconds in one statement. So a message committed while an outcome write runs is
 * sent without waiting for it, and under load the outcomes of many batches coalesce into few writes.
 *
 * <p>Two limits keep memory bounded, both counting messages, not batches (at a moderate rate a lane sends many
 * small batches, which must not use a limit up while little is in memory). The lanes together may have {@link
 * #SENDING_BATCHES_PER_LANE} full batches' worth of messages per lane waiting for the broker's acknowledgment,
 * payloads included. An acknowledged message is let go of, and only its outcome waits for the recorders: as many
 * outcomes as the queues hold messages, at least as many as may be sending. So when the database stalls, the lanes
 * go on sending for as long as those small outcomes fit, rather than leaving the queues to fill up and overflow.
 *
 * <p>When a lane is full the message is simply not queued: its row is already committed and due for the
 * retry processor at its first-delay time, so nothing is lost and the publisher never waits or fails.
 * Thread-safe.
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    private static final Duration OVERFLOW_LOG_INTERVAL = Duration.ofMinutes(1);
    /** Full batches' worth of messages sent and not yet acknowledged, per lane: bounds the payloads in memory. */
    static final int SENDING_BATCHES_PER_LANE = 4;
    /**
     * How long a recorder waits for more batches before a write: at a steady rate it turns a write per message or
     * two into one per this interval, which leaves the database to the business transactions.
     */
    static final Duration RECORDER_LINGER = Duration.ofMillis(10);

    private final MessageProcessor processor;
    private final List<BlockingQueue<StoredMessage>> lanes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final BlockingQueue<MessageProcessor.Attempts> sent = new LinkedBlockingQueue<>();
    /** One permit per message the lanes may have sent and not yet seen acknowledged. */
    private final Semaphore sending;
    /** One permit per message the lanes may have sent and not yet seen recorded. */
    private final Semaphore unrecorded;

    private final List<Thread> recorders = new ArrayList<>();
    private final int batchSize;
    private final Clock clock;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final AtomicLong overflowed = new AtomicLong();
    private volatile Instant lastOverflowLog = Instant.MIN;
    private volatile boolean closing;
    private volatile boolean lanesStopped;

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
        int sendingLimit = laneCount * SENDING_BATCHES_PER_LANE * batchSize;
        this.sending = new Semaphore(sendingLimit);
        this.unrecorded = new Semaphore(Math.max(queueCapacity, sendingLimit));
        NamedThreadFactory recorderFactory = new NamedThreadFactory("dispatcher-recorder");
        for (int i = 0; i < laneCount; i++) {
            // one write at a time per recorder: several, so that a slow write does not hold up every lane
            recorders.add(recorderFactory.newThread(this::record));
        }
    }

    /** Starts the lanes' threads; messages offered before are queued and sent then. */
    public void start() {
        threads.forEach(Thread::start);
        recorders.forEach(Thread::start);
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
                    handOver(batch);
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

    /** Sends {@code batch} and hands it to the recorders; waits first while a limit is reached. */
    private void handOver(List<StoredMessage> batch) throws InterruptedException {
        int size = batch.size();
        unrecorded.acquire(size);
        try {
            sending.acquire(size);
        } catch (InterruptedException e) {
            unrecorded.release(size);
            throw e;
        }
        MessageProcessor.Attempts attempts;
        try {
            attempts = processor.start(batch);
        } catch (RuntimeException | Error e) {
            sending.release(size);
            unrecorded.release(size);
            throw e;
        }
        attempts.done().thenRun(() -> sending.release(size));
        sent.add(attempts);
    }

    /** A recorder: writes the outcomes of the batches it takes in one statement each time, until the lanes end. */
    private void record() {
        List<MessageProcessor.Attempts> batches = new ArrayList<>();
        while (!lanesStopped || !sent.isEmpty()) {
            try {
                MessageProcessor.Attempts first = sent.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batches.add(first);
                lingerForMore(batches);
                processor.record(batches);
            } catch (InterruptedException e) {
                // close() gave up waiting: the rows keep their lease and the retry processor takes them over
                return;
            } catch (RuntimeException | Error e) {
                MessageProcessor.rethrowIfFatal(e);
                log.error(
                        "Recording the outcomes of {} batches failed; the retry processor takes them over",
                        batches.size(),
                        e);
            } finally {
                unrecorded.release(messages(batches));
                batches.clear();
            }
        }
    }

    /**
     * Collects the batches handed over within {@link #RECORDER_LINGER} of the first: their outcomes then take one
     * write instead of one each. A message is acknowledged before this; what waits is only its row's status.
     */
    private void lingerForMore(List<MessageProcessor.Attempts> batches) throws InterruptedException {
        long deadline = System.nanoTime() + RECORDER_LINGER.toNanos();
        long remaining;
        // a lane waiting for permits waits for this write: nothing more can come from it
        while (!unrecorded.hasQueuedThreads() && (remaining = deadline - System.nanoTime()) > 0) {
            MessageProcessor.Attempts next = sent.poll(remaining, TimeUnit.NANOSECONDS);
            if (next == null) {
                return;
            }
            batches.add(next);
            sent.drainTo(batches);
        }
    }

    private static int messages(List<MessageProcessor.Attempts> batches) {
        return batches.stream().mapToInt(MessageProcessor.Attempts::size).sum();
    }

    /** Past its first delay; with a first delay of zero, the dispatcher and the retry processor both may send. */
    private static boolean isDueForTheRetryProcessor(StoredMessage message, Instant now) {
        return message.nextAttemptAt().isAfter(message.addedAt())
                && !message.nextAttemptAt().isAfter(now);
    }

    /**
     * Stops taking messages and lets the lanes finish what they hold and the recorders write their outcomes, for at
     * most {@code timeout}; what is left then stays committed in the table for the retry processor.
     */
    public void close(Duration timeout) {
        closing = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            for (Thread thread : threads) {
                awaitEnd(thread, deadline);
            }
            lanesStopped = true;
            for (Thread recorder : recorders) {
                awaitEnd(recorder, deadline);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            threads.forEach(Thread::interrupt);
            recorders.forEach(Thread::interrupt);
        }
    }

    /** Waits for {@code thread} until {@code deadline}, then interrupts it if it still runs. */
    private static void awaitEnd(Thread thread, long deadline) throws InterruptedException {
        if (!thread.isAlive()) {
            return;
        }
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        if (thread.isAlive()) {
            thread.interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
