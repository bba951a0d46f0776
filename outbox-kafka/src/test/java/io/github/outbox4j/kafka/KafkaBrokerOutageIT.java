package io.github.outbox4j.kafka;

import static io.github.outbox4j.kafka.KafkaTestSupport.outboxMessage;
import static io.github.outbox4j.kafka.KafkaTestSupport.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testkit.KafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker goes away for 20 s while the outbox keeps sending, then comes back on the same address: sends
 * neither hang nor block the caller, each one completes or fails within the producer's delivery timeout, and
 * the same transport — producer and consumers — carries on without a restart. Runs on a broker of its own
 * ({@link RestartableBroker}), since it stops it.
 */
class KafkaBrokerOutageIT {
    private static final Logger log = LoggerFactory.getLogger(KafkaBrokerOutageIT.class);
    private static final Duration OUTAGE = Duration.ofSeconds(20);
    private static final Duration SEND_INTERVAL = Duration.ofMillis(250);

    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = RestartableBroker.get();
    }

    /** One send made during the outage: how long the call took, its stage, and when that settled (nanoTime). */
    private record Send(
            TransportMessage message,
            long callMillis,
            CompletableFuture<Void> result,
            long startedAt,
            CompletableFuture<Long> settledAt) {

        Send(TransportMessage message, long callMillis, CompletableFuture<Void> result, long startedAt) {
            this(message, callMillis, result, startedAt, result.handle((ignored, error) -> System.nanoTime()));
        }

        long settledAfterMillis() {
            return TimeUnit.NANOSECONDS.toMillis(settledAt.join() - startedAt);
        }
    }

    @Test
    void sendsDuringAnOutageCompleteOrFailInTimeAndTheTransportResumesAfterIt() {
        String topic = unique("outage");
        String group = unique("group");
        RecordingListener listener = new RecordingListener();
        try (KafkaOutboxTransport transport = KafkaOutboxTransport.builder()
                .bootstrapServers(broker.bootstrapServers())
                .createTopics(3, 1)
                .pollTimeout(Duration.ofMillis(200))
                .build()) {
            transport.start();
            transport.subscribe(new Subscription(group, Set.of(topic), 2), listener);
            List<TransportMessage> before = messages(topic, 10);
            before.forEach(m -> transport.send(m).toCompletableFuture().join());
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> listener.storedIds().containsAll(ids(before)));

            broker.stop();
            long outageStart = System.nanoTime();
            ConcurrentLinkedQueue<Send> duringOutage = new ConcurrentLinkedQueue<>();
            // the outbox's dispatcher keeps sending: one message every 250 ms for the whole outage
            await().pollInSameThread()
                    .pollInterval(SEND_INTERVAL)
                    .atMost(OUTAGE.plusSeconds(10))
                    .until(() -> {
                        TransportMessage message = outboxMessage(topic, "key-" + duringOutage.size(), "{}");
                        long start = System.nanoTime();
                        CompletableFuture<Void> result = transport.send(message).toCompletableFuture();
                        duringOutage.add(new Send(message, elapsedMillis(start), result, start));
                        return System.nanoTime() - outageStart >= OUTAGE.toNanos();
                    });
            broker.start();
            log.info(
                    "Broker back after {} ms; {} sends made meanwhile",
                    elapsedMillis(outageStart),
                    duringOutage.size());

            assertThat(duringOutage).hasSizeGreaterThanOrEqualTo(40);
            assertThat(duringOutage)
                    .allSatisfy(send -> assertThat(send.callMillis())
                            .as("send() does not block the caller")
                            .isLessThan(1_000));
            // each stage settles within delivery.timeout.ms (25 s) of its send, plus scheduling slack
            await().atMost(Duration.ofSeconds(40))
                    .until(() -> duringOutage.stream().allMatch(s -> s.result().isDone()));
            List<Send> acknowledged = duringOutage.stream()
                    .filter(s -> !s.result().isCompletedExceptionally())
                    .toList();
            List<Send> failed = duringOutage.stream()
                    .filter(s -> s.result().isCompletedExceptionally())
                    .toList();
            log.info(
                    "Of the sends during the outage {} were acknowledged after the restart and {} failed",
                    acknowledged.size(),
                    failed.size());
            assertThat(duringOutage)
                    .allSatisfy(send -> assertThat(send.settledAfterMillis())
                            .as("settled within delivery.timeout.ms, not hanging")
                            .isLessThan(30_000));
            for (Send send : failed) {
                assertThat(send.result())
                        .failsWithin(Duration.ZERO)
                        .withThrowableThat()
                        .havingCause()
                        .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
            }

            // the same transport works again: new sends succeed, the consumers resume
            List<TransportMessage> after = messages(topic, 10);
            List<CompletableFuture<Void>> sends = after.stream()
                    .map(m -> transport.send(m).toCompletableFuture())
                    .toList();
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                    .orTimeout(30, TimeUnit.SECONDS)
                    .join();
            Set<String> expected = ids(after);
            acknowledged.forEach(s -> expected.add(s.message().id()));
            await().atMost(Duration.ofSeconds(90))
                    .until(() -> listener.storedIds().containsAll(expected));
        }
    }

    private static List<TransportMessage> messages(String topic, int count) {
        return IntStream.range(0, count)
                .mapToObj(i -> outboxMessage(topic, "key-" + i, "{\"n\":" + i + "}"))
                .toList();
    }

    private static Set<String> ids(List<TransportMessage> messages) {
        return messages.stream().map(TransportMessage::id).collect(Collectors.toSet());
    }

    private static long elapsedMillis(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
