package io.github.outbox4j.kafka;

import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of a group, on its own thread: poll, hand the batch to the inbox, and commit the batch's offsets
 * only after the inbox returned. When the inbox throws (or the commit fails), the batch's partitions are rewound
 * to its first offsets and every assigned partition is paused for the redelivery backoff; polling goes on during
 * the pause, so the consumer keeps its group membership and wakes at once for {@link #requestStop()}.
 *
 * <p>Offsets are committed synchronously at the end of each batch, on the consumer's own thread, and rebalance
 * callbacks run inside {@code poll}, that is between batches: a revoked partition therefore never has a
 * stored-but-uncommitted batch, nor a commit for work that was not stored. The Kafka consumer is used
 * by this thread only.
 */
final class GroupConsumer implements ConsumerRebalanceListener {
    private static final Logger log = LoggerFactory.getLogger(GroupConsumer.class);

    private final Consumer<String, byte[]> consumer;
    private final Subscription subscription;
    private final InboundListener listener;
    private final Duration pollTimeout;
    private final Duration redeliveryBackoff;
    private final Duration closeTimeout;
    private final Thread thread;
    private volatile boolean running = true;
    private long resumeAt;
    private boolean paused;

    GroupConsumer(
            String name,
            Consumer<String, byte[]> consumer,
            Subscription subscription,
            InboundListener listener,
            Duration pollTimeout,
            Duration redeliveryBackoff,
            Duration closeTimeout) {
        this.consumer = consumer;
        this.subscription = subscription;
        this.listener = listener;
        this.pollTimeout = pollTimeout;
        this.redeliveryBackoff = redeliveryBackoff;
        this.closeTimeout = closeTimeout;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Asks the thread to stop: it finishes (and commits) a batch in progress, then closes the consumer. */
    void requestStop() {
        running = false;
        consumer.wakeup();
    }

    /** Waits for the thread to end, at most {@code timeout}. */
    void awaitStop(Duration timeout) {
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn(
                    "Kafka consumer {} did not stop within {}: its inbox call is still running; its uncommitted"
                            + " records come again to the group's next consumer",
                    thread.getName(),
                    timeout);
        }
    }

    private void run() {
        try {
            consumer.subscribe(subscription.topics(), this);
            while (running) {
                pollOnce();
            }
        } catch (RuntimeException | Error e) {
            log.error(
                    "Kafka consumer {} of group '{}' stopped on an unexpected error",
                    thread.getName(),
                    subscription.group(),
                    e);
        } finally {
            try {
                consumer.close(CloseOptions.timeout(closeTimeout));
            } catch (RuntimeException e) {
                log.warn("Closing Kafka consumer {} failed", thread.getName(), e);
            }
        }
    }

    private void pollOnce() {
        resumeWhenDue();
        ConsumerRecords<String, byte[]> records;
        try {
            records = consumer.poll(nextPollTimeout());
        } catch (WakeupException e) {
            return; // requestStop(): the loop ends
        } catch (KafkaException e) {
            log.warn(
                    "Kafka consumer {} of group '{}' could not poll; trying again in {}",
                    thread.getName(),
                    subscription.group(),
                    redeliveryBackoff,
                    e);
            pauseAssigned();
            return;
        }
        if (records.isEmpty()) {
            return;
        }
        List<TransportMessage> batch = KafkaMessages.toMessages(records);
        try {
            listener.onMessages(subscription.group(), batch);
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError fatal) {
                throw fatal;
            }
            log.warn(
                    "The inbox did not store {} messages of group '{}' ({}); not acknowledged, they come again in {}",
                    batch.size(),
                    subscription.group(),
                    e.toString(),
                    redeliveryBackoff);
            log.debug("Inbox failure of Kafka consumer {}", thread.getName(), e);
            redeliver(records);
            return;
        }
        commit(records);
    }

    private void commit(ConsumerRecords<String, byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = nextOffsets(records);
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            // requestStop() while the inbox stored the batch: the batch is done, so finish it with its commit
            commitOnClose(offsets);
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // the partitions went to another consumer meanwhile: it receives the batch again, the inbox skips it
            log.info(
                    "Kafka consumer {} of group '{}' lost its partitions before committing {} stored messages;"
                            + " their redelivery is skipped as duplicates: {}",
                    thread.getName(),
                    subscription.group(),
                    records.count(),
                    e.toString());
        } catch (KafkaException e) {
            log.warn(
                    "Kafka consumer {} of group '{}' could not commit {} stored messages; they come again in {} and"
                            + " are skipped as duplicates",
                    thread.getName(),
                    subscription.group(),
                    records.count(),
                    redeliveryBackoff,
                    e);
            redeliver(records);
        }
    }

    private void commitOnClose(Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            consumer.commitSync(offsets, closeTimeout);
        } catch (KafkaException e) {
            log.info(
                    "Kafka consumer {} of group '{}' closed without committing its last batch; it comes again and is"
                            + " skipped as duplicates: {}",
                    thread.getName(),
                    subscription.group(),
                    e.toString());
        }
    }

    /** Rewinds the batch's partitions to its first records, then pauses for the backoff. */
    private void redeliver(ConsumerRecords<String, byte[]> records) {
        Set<TopicPartition> assigned = consumer.assignment();
        for (TopicPartition partition : records.partitions()) {
            if (assigned.contains(partition)) {
                consumer.seek(partition, records.records(partition).get(0).offset());
            }
        }
        pauseAssigned();
    }

    private void pauseAssigned() {
        if (redeliveryBackoff.isZero()) {
            return;
        }
        consumer.pause(consumer.assignment());
        paused = true;
        resumeAt = System.nanoTime() + redeliveryBackoff.toNanos();
    }

    private void resumeWhenDue() {
        if (paused && System.nanoTime() - resumeAt >= 0) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    private Duration nextPollTimeout() {
        if (!paused) {
            return pollTimeout;
        }
        long remaining = Math.max(0, resumeAt - System.nanoTime());
        return Duration.ofNanos(Math.min(remaining, pollTimeout.toNanos()));
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<String, byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : records.partitions()) {
            List<ConsumerRecord<String, byte[]>> inPartition = records.records(partition);
            ConsumerRecord<String, byte[]> last = inPartition.get(inPartition.size() - 1);
            offsets.put(partition, new OffsetAndMetadata(last.offset() + 1, last.leaderEpoch(), ""));
        }
        return offsets;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        // nothing to commit: every stored batch was committed before this poll, and nothing else may be
        log.debug("Kafka consumer {} of group '{}' gives up {}", thread.getName(), subscription.group(), partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        log.debug("Kafka consumer {} of group '{}' now reads {}", thread.getName(), subscription.group(), partitions);
        if (paused) {
            // newly assigned partitions arrive unpaused; keep the whole consumer in its backoff
            consumer.pause(partitions);
        }
    }
}
