package io.github.outbox4j.kafka;

import io.github.outbox4j.PermanentFailureException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands records to the producer on one thread of its own ({@code outbox-kafka-sender}), so that the caller of
 * {@code send} never waits. {@link Producer#send} itself blocks, up to {@code max.block.ms}, whenever it lacks
 * the topic's metadata or buffer space: for a topic it has not seen, and for every topic while no broker answers
 * (the client then re-bootstraps and forgets what it knew). While it blocks, records wait here; a record that
 * has waited longer than {@code max.block.ms} is not handed over but failed with Kafka's {@link
 * TimeoutException}, so that during an outage every send settles within about twice {@code max.block.ms}
 * instead of queueing behind one blocked call after another.
 *
 * <p>Usually the thread only moves records from the queue to the producer's own buffer, in microseconds, and
 * batching, pipelining and acknowledgements are the producer's as before. Thread-safe.
 */
final class SendQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SendQueue.class);
    private static final int DRAIN_BATCH = 512;

    private record Task(ProducerRecord<String, byte[]> record, CompletableFuture<Void> result, long queuedAt) {}

    private final Producer<String, byte[]> producer;
    private final TopicCreator topics;
    private final long maxWaitNanos;
    private final LongSupplier nanoTime;
    private final BlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean closing;
    private boolean terminated;

    /** {@code topics} creates each topic before its first record, or is {@code null}. */
    SendQueue(Producer<String, byte[]> producer, TopicCreator topics, Duration maxWait) {
        this(producer, topics, maxWait, System::nanoTime);
    }

    /** With the clock that ages queued records, for tests. */
    SendQueue(Producer<String, byte[]> producer, TopicCreator topics, Duration maxWait, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.producer = producer;
        this.topics = topics;
        this.maxWaitNanos = maxWait.toNanos();
        this.thread = new Thread(this::run, "outbox-kafka-sender");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues {@code record}; the stage completes when Kafka acknowledged it, or fails. Never blocks. */
    CompletableFuture<Void> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        synchronized (lock) {
            if (closing || terminated) {
                result.completeExceptionally(new IllegalStateException("The Kafka transport is closed"));
            } else {
                queue.add(new Task(record, result, nanoTime.getAsLong()));
            }
        }
        return result;
    }

    private void run() {
        List<Task> batch = new ArrayList<>(DRAIN_BATCH);
        while (!closing || !queue.isEmpty()) {
            try {
                Task first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, DRAIN_BATCH - 1);
                batch.forEach(this::handOver);
            } catch (InterruptedException e) {
                break;
            } finally {
                batch.clear();
            }
        }
        failRemaining();
    }

    private void handOver(Task task) {
        long waited = nanoTime.getAsLong() - task.queuedAt();
        if (waited > maxWaitNanos) {
            task.result()
                    .completeExceptionally(new TimeoutException(
                            "Not sent to topic '" + task.record().topic()
                                    + "': the producer was blocked, waiting for the broker, for longer than max.block.ms ("
                                    + TimeUnit.NANOSECONDS.toMillis(maxWaitNanos) + " ms)"));
            return;
        }
        try {
            if (topics != null) {
                topics.ensure(task.record().topic());
            }
            producer.send(task.record(), (metadata, error) -> {
                if (error == null) {
                    task.result().complete(null);
                } else {
                    task.result().completeExceptionally(classified(task.record(), error));
                }
            });
        } catch (RuntimeException e) {
            // max.block.ms passed (no metadata, full buffer, topic not created): a failed attempt like any other,
            // retried by the outbox
            task.result().completeExceptionally(classified(task.record(), e));
        }
    }

    /**
     * Kafka's verdicts that no later attempt can change become {@link PermanentFailureException}s, so the outbox
     * marks the message FAILED at once instead of sending it again and again: a record larger than the producer's
     * {@code max.request.size} or the broker's or topic's {@code message.max.bytes}, and a topic name Kafka does not
     * accept. Every other failure is returned as it is and retried.
     */
    static Throwable classified(ProducerRecord<String, byte[]> record, Throwable error) {
        if (error instanceof RecordTooLargeException || error instanceof RecordBatchTooLargeException) {
            int valueSize = record.value() == null ? 0 : record.value().length;
            return new PermanentFailureException(
                    "Kafka refused the record for topic '" + record.topic() + "' as too large (value " + valueSize
                            + " bytes; the limits are the producer's max.request.size and the broker's or topic's"
                            + " message.max.bytes): " + error.getMessage(),
                    error);
        }
        if (error instanceof InvalidTopicException) {
            return new PermanentFailureException(
                    "Kafka refused topic '" + record.topic() + "' as an invalid topic name: " + error.getMessage(),
                    error);
        }
        return error;
    }

    private void failRemaining() {
        List<Task> left = new ArrayList<>();
        synchronized (lock) {
            terminated = true;
            queue.drainTo(left);
        }
        for (Task task : left) {
            task.result().completeExceptionally(new IllegalStateException("The Kafka transport closed before sending"));
        }
    }

    /**
     * Stops taking records and hands over those queued, waiting at most {@code timeout}; what is still queued
     * then fails. The producer stays open: its owner closes it afterwards.
     */
    void close(Duration timeout) {
        closing = true;
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("The Kafka sender thread did not finish within {}; failing what it still holds", timeout);
            thread.interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
