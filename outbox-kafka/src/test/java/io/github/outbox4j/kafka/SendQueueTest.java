package io.github.outbox4j.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sender thread's promise: the caller never waits, and nothing waits in the queue past max.block.ms. */
class SendQueueTest {
    private static final Duration MAX_BLOCK = Duration.ofSeconds(10);

    private final AtomicLong now = new AtomicLong();
    private final CountDownLatch brokerAnswers = new CountDownLatch(1);
    private final BlockingProducer producer = new BlockingProducer();
    private final SendQueue queue = new SendQueue(producer, null, MAX_BLOCK, now::get);

    @AfterEach
    void close() {
        brokerAnswers.countDown();
        queue.close(Duration.ofSeconds(5));
    }

    @Test
    void recordsQueuedBehindABlockedSendFailOnceTheyAreOlderThanMaxBlock() {
        CompletableFuture<Void> blocked = queue.send(record("a"));
        await().until(producer.blocking::get);
        CompletableFuture<Void> aged = queue.send(record("b"));

        now.addAndGet(MAX_BLOCK.plusMillis(1).toNanos());
        CompletableFuture<Void> fresh = queue.send(record("c"));
        brokerAnswers.countDown();

        await().until(() -> blocked.isDone() && aged.isDone() && fresh.isDone());
        assertThat(blocked).isCompletedExceptionally();
        assertThat(aged)
                .failsWithin(Duration.ZERO)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(TimeoutException.class)
                .withMessageContaining("max.block.ms");
        assertThat(fresh).isCompletedWithValue(null);
        assertThat(producer.history()).extracting(ProducerRecord::topic).containsExactly("c");
    }

    @Test
    void afterCloseSendsFailAtOnce() {
        queue.close(Duration.ofSeconds(5));

        assertThat(queue.send(record("late"))).isCompletedExceptionally();
    }

    private static ProducerRecord<String, byte[]> record(String topic) {
        return new ProducerRecord<>(topic, "key", new byte[] {1});
    }

    /** The first send blocks until the broker "answers", then fails for want of metadata, as Kafka's does. */
    private final class BlockingProducer extends MockProducer<String, byte[]> {
        final AtomicBoolean blocking = new AtomicBoolean();
        private final AtomicBoolean first = new AtomicBoolean(true);

        BlockingProducer() {
            super(true, null, new StringSerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Callback callback) {
            if (first.compareAndSet(true, false)) {
                blocking.set(true);
                try {
                    brokerAnswers.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new TimeoutException("Topic " + record.topic() + " not present in metadata after 10000 ms.");
            }
            return super.send(record, callback);
        }
    }
}
