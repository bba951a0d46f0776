package io.github.outbox4j.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.PermanentFailureException;
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
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
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

    @Test
    void aRecordKafkaRefusesAsTooLargeFailsPermanentlyOthersStayRetryable() {
        MockProducer<String, byte[]> answering =
                new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
        SendQueue sending = new SendQueue(answering, null, MAX_BLOCK);
        try {
            CompletableFuture<Void> tooLarge = sending.send(record("big"));
            await().until(() -> answering.history().size() == 1);
            answering.errorNext(new RecordTooLargeException(
                    "The request included a message larger than the max" + " message size the server will accept."));
            CompletableFuture<Void> timedOut = sending.send(record("slow"));
            await().until(() -> answering.history().size() == 2);
            answering.errorNext(new TimeoutException("Expiring 1 record(s)"));

            assertThat(tooLarge)
                    .failsWithin(Duration.ofSeconds(5))
                    .withThrowableThat()
                    .havingCause()
                    .isInstanceOf(PermanentFailureException.class)
                    .withMessageContaining("topic 'big'")
                    .withMessageContaining("too large")
                    .havingCause()
                    .isInstanceOf(RecordTooLargeException.class);
            assertThat(timedOut)
                    .failsWithin(Duration.ofSeconds(5))
                    .withThrowableThat()
                    .havingCause()
                    .isInstanceOf(TimeoutException.class);
        } finally {
            sending.close(Duration.ofSeconds(5));
        }
    }

    @Test
    void anInvalidTopicNameIsPermanentToo() {
        assertThat(SendQueue.classified(record("not a topic"), new InvalidTopicException("Invalid topics")))
                .isInstanceOf(PermanentFailureException.class)
                .hasMessageContaining("'not a topic'");
        assertThat(SendQueue.classified(record("t"), new RecordBatchTooLargeException("batch")))
                .isInstanceOf(PermanentFailureException.class);
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
