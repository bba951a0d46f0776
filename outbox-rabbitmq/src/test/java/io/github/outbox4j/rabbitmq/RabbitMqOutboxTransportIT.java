package io.github.outbox4j.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.rabbitmq.RabbitMqTestSupport.RecordingListener;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The transport against the real RabbitMQ broker of {@code OUTBOX_TEST_RABBITMQ_URI}. */
class RabbitMqOutboxTransportIT {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private RabbitMqTestSupport broker;
    private RabbitMqOutboxTransport transport;

    @BeforeEach
    void setUp() {
        broker = new RabbitMqTestSupport();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (transport != null) {
            transport.close();
        }
        broker.deleteAll();
    }

    private RabbitMqOutboxTransport start(RabbitMqOutboxTransport.Builder builder) {
        transport = builder.build();
        transport.start();
        return transport;
    }

    @Test
    void aMessageArrivesWithItsKeyEveryHeaderAndItsExactBody() throws Exception {
        start(broker.transport());
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription("inventory", Set.of("order.paid"), 1), listener);
        broker.queue("inventory");
        String raw = broker.rawQueue("raw", "order.paid");

        byte[] body = "{\"orderId\":42,\"note\":\"café ✓\"}".getBytes(StandardCharsets.UTF_8);
        String id = "0190a6b2-7c1e-7d3f-8a4b-1c2d3e4f5a6b";
        Map<String, String> headers = new LinkedHashMap<>(RabbitMqTestSupport.outboxHeaders(id, "order.paid", "o-42"));
        headers.put(OutboxHeaders.CALLBACK_NAME, "order.paid.done");
        headers.put(OutboxHeaders.TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        headers.put("tenant", "acme");
        TransportMessage sent = new TransportMessage(id, "order.paid", "o-42", headers, body);

        assertThat(transport.send(sent)).succeedsWithin(DEADLINE);

        await().atMost(DEADLINE).until(() -> listener.accepted.contains(id));
        TransportMessage received = listener.calls.get(0);
        assertThat(received.id()).isEqualTo(id);
        assertThat(received.topic()).isEqualTo("order.paid");
        assertThat(received.key()).isEqualTo("o-42");
        assertThat(received.headers()).containsAllEntriesOf(headers);
        assertThat(received.body()).isEqualTo(body);

        // on the wire: persistent, JSON, message-id set
        GetResponse response = broker.admin(channel -> channel.basicGet(raw, true));
        AMQP.BasicProperties properties = response.getProps();
        assertThat(properties.getDeliveryMode()).isEqualTo(2);
        assertThat(properties.getContentType()).isEqualTo("application/json");
        assertThat(properties.getMessageId()).isEqualTo(id);
        assertThat(response.getEnvelope().getRoutingKey()).isEqualTo("order.paid");
        assertThat(response.getBody()).isEqualTo(body);
    }

    @Test
    void aThousandMessagesToAGroupWithThreeConsumersAreEachDeliveredAndAcked() throws Exception {
        start(broker.transport());
        String queue = broker.queue("warehouse");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger handedOver = new AtomicInteger();
        transport.subscribe(
                new Subscription("warehouse", Set.of("order.paid", "order.cancelled"), 3), (g, messages) -> {
                    handedOver.addAndGet(messages.size());
                    messages.forEach(message -> seen.add(message.id()));
                });
        assertThat(broker.consumerCount(queue)).isEqualTo(3);

        List<CompletableFuture<Void>> sends = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            TransportMessage message = RabbitMqTestSupport.message(
                    i % 2 == 0 ? "order.paid" : "order.cancelled", "k" + i, "{\"n\":" + i + "}");
            ids.add(message.id());
            sends.add(transport.send(message).toCompletableFuture());
        }
        assertThat(CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)))
                .succeedsWithin(DEADLINE);

        await().atMost(DEADLINE).until(() -> seen.size() == 1000);
        assertThat(seen).isEqualTo(ids);
        transport.close(); // anything not acked would now be back in the queue
        assertThat(broker.messageCount(queue)).isZero();
        assertThat(handedOver.get()).as("messages handed to the inbox").isEqualTo(1000);
    }

    @Test
    void theDeliveriesAConsumerHoldsReachTheInboxInBatchesOfUpToPrefetch() throws Exception {
        start(broker.transport()); // prefetch 100
        String queue = broker.queue("billing");
        CountDownLatch firstCallEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<List<String>> calls = new CopyOnWriteArrayList<>();
        transport.subscribe(new Subscription("billing", Set.of("order.paid"), 1), (g, messages) -> {
            calls.add(messages.stream().map(TransportMessage::id).toList());
            if (firstCallEntered.getCount() > 0) {
                firstCallEntered.countDown();
                awaitRelease(release);
            }
        });

        TransportMessage first = RabbitMqTestSupport.message("order.paid", null, "{\"n\":0}");
        assertThat(transport.send(first)).succeedsWithin(DEADLINE);
        assertThat(firstCallEntered.await(DEADLINE.toSeconds(), TimeUnit.SECONDS))
                .isTrue();
        List<String> ids = new ArrayList<>(List.of(first.id()));
        ids.addAll(sendAll(499));
        // the consumer holds prefetch deliveries: the first, in the blocked call, and 99 buffered
        await().atMost(DEADLINE).until(() -> broker.messageCount(queue) == 400);
        release.countDown();

        await().atMost(DEADLINE).until(() -> calls.stream().mapToInt(List::size).sum() >= 500);
        List<String> handedOver = calls.stream().flatMap(List::stream).toList();
        assertThat(handedOver).as("each message handed over once, in order").containsExactlyElementsOf(ids);
        assertThat(calls.get(1))
                .as("the deliveries buffered meanwhile, in one call")
                .hasSizeGreaterThan(1);
        assertThat(calls).allSatisfy(call -> assertThat(call).hasSizeLessThanOrEqualTo(100));
        assertThat(calls.size()).isLessThan(500);
        await().atMost(DEADLINE).until(() -> broker.messageCount(queue) == 0);
        transport.close(); // anything not acked would now be back in the queue
        assertThat(broker.messageCount(queue)).isZero();
        System.out.printf("500 messages in %d calls%n", calls.size());
    }

    @Test
    void aBatchTheInboxCannotTakeIsHandedOverAgainAsAWholeAfterTheBackoffThenAcked() throws Exception {
        Duration backoff = Duration.ofMillis(500);
        start(broker.transport().redeliveryBackoff(backoff));
        String queue = broker.queue("ledger");
        CountDownLatch firstCallEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<String> poison = new AtomicReference<>();
        AtomicBoolean failedOnce = new AtomicBoolean();
        List<List<String>> calls = new CopyOnWriteArrayList<>();
        List<Instant> callTimes = new CopyOnWriteArrayList<>();
        List<Boolean> outcomes = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
        transport.subscribe(new Subscription("ledger", Set.of("order.paid"), 1), (g, messages) -> {
            List<String> ids = messages.stream().map(TransportMessage::id).toList();
            calls.add(ids);
            callTimes.add(Instant.now());
            if (firstCallEntered.getCount() > 0) {
                firstCallEntered.countDown();
                awaitRelease(release);
            }
            if (ids.contains(poison.get()) && failedOnce.compareAndSet(false, true)) {
                outcomes.add(false);
                throw new IllegalStateException("the inbox is down (test)");
            }
            outcomes.add(true);
            ids.forEach(
                    id -> accepted.computeIfAbsent(id, x -> new AtomicInteger()).incrementAndGet());
        });

        TransportMessage first = RabbitMqTestSupport.message("order.paid", null, "{\"n\":0}");
        assertThat(transport.send(first)).succeedsWithin(DEADLINE);
        assertThat(firstCallEntered.await(DEADLINE.toSeconds(), TimeUnit.SECONDS))
                .isTrue();
        List<String> later = sendAll(49);
        poison.set(later.get(0));
        await().atMost(DEADLINE).until(() -> broker.messageCount(queue) == 0); // all 50 held by the consumer
        release.countDown();

        Set<String> all = new HashSet<>(later);
        all.add(first.id());
        await().atMost(DEADLINE).until(() -> accepted.keySet().containsAll(all));
        int failed = outcomes.indexOf(false);
        assertThat(failed).as("the call that failed").isPositive();
        List<String> failedBatch = calls.get(failed);
        assertThat(failedBatch).contains(poison.get()).hasSizeGreaterThan(1);
        assertThat(accepted).allSatisfy((id, times) -> assertThat(times).as(id).hasValue(1));
        // every message of the failed batch came back, in later calls, after the backoff
        List<String> afterwards = calls.subList(failed + 1, calls.size()).stream()
                .flatMap(List::stream)
                .toList();
        assertThat(afterwards).containsAll(failedBatch);
        assertThat(Duration.between(callTimes.get(failed), callTimes.get(failed + 1)))
                .isGreaterThanOrEqualTo(backoff.minusMillis(50));
        transport.close(); // anything not acked would now be back in the queue
        assertThat(broker.messageCount(queue)).isZero();
    }

    /** Sends {@code count} messages at once, waits for their confirms and returns their ids in order. */
    private List<String> sendAll(int count) {
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            TransportMessage message = RabbitMqTestSupport.message("order.paid", null, "{\"n\":" + i + "}");
            ids.add(message.id());
            sends.add(transport.send(message).toCompletableFuture());
        }
        assertThat(CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)))
                .succeedsWithin(DEADLINE);
        return ids;
    }

    private static void awaitRelease(CountDownLatch latch) {
        try {
            if (!latch.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test did not release the listener");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aMessageNoQueueIsBoundForFailsInsteadOfSucceeding() throws Exception {
        start(broker.transport());
        String routable = broker.rawQueue("raw", "order.paid");

        CompletableFuture<Void> unroutable = transport
                .send(RabbitMqTestSupport.message("nobody.listens", null, "{}"))
                .toCompletableFuture();

        assertThat(unroutable)
                .failsWithin(DEADLINE)
                .withThrowableThat()
                .havingRootCause()
                .isInstanceOf(OutboxException.class)
                .withMessageContaining("no queue bound for routing key 'nobody.listens'");
        // the channel is fine afterwards
        assertThat(transport.send(RabbitMqTestSupport.message("order.paid", null, "{}")))
                .succeedsWithin(DEADLINE);
        assertThat(broker.messageCount(routable)).isEqualTo(1);
    }

    @Test
    void aMessageTheBrokerNacksFails() throws Exception {
        start(broker.transport());
        String full = broker.queue("full");
        broker.admin(channel -> {
            channel.queueDeclare(full, true, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
            channel.queueBind(full, broker.exchange, "order.paid");
            return null;
        });

        assertThat(transport.send(RabbitMqTestSupport.message("order.paid", null, "{}")))
                .succeedsWithin(DEADLINE);
        assertThat(transport.send(RabbitMqTestSupport.message("order.paid", null, "{}")))
                .failsWithin(DEADLINE)
                .withThrowableThat()
                .havingRootCause()
                .withMessageContaining("nacked");
    }

    @Test
    void confirmsArePipelinedNotAwaitedOneByOne() throws Exception {
        start(broker.transport()); // 1,000 in flight at most: the 2,000 sends also meet the backpressure
        String raw = broker.rawQueue("raw", "order.#");

        List<CompletableFuture<Void>> sends = new ArrayList<>();
        int mostOutstanding = 0;
        long started = System.nanoTime();
        for (int i = 0; i < 2000; i++) {
            sends.add(transport
                    .send(RabbitMqTestSupport.message("order.paid", null, "{\"n\":" + i + "}"))
                    .toCompletableFuture());
            mostOutstanding = Math.max(mostOutstanding, transport.outstandingConfirms());
        }
        long sendingMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)))
                .succeedsWithin(DEADLINE);
        assertThat(sends).allMatch(send -> send.isDone() && !send.isCompletedExceptionally());
        assertThat(mostOutstanding)
                .as("sends waiting for their confirm at once")
                .isGreaterThan(1);
        assertThat(transport.outstandingConfirms()).isZero();
        assertThat(broker.messageCount(raw)).isEqualTo(2000);
        System.out.printf(
                "2000 sends issued in %d ms, at most %d confirms outstanding%n", sendingMillis, mostOutstanding);
    }

    @Test
    void aDeliveryTheInboxCannotTakeIsHandedOverAgainAfterTheBackoffThenAcked() throws Exception {
        Duration backoff = Duration.ofMillis(500);
        start(broker.transport().redeliveryBackoff(backoff));
        String queue = broker.queue("membership");
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        RecordingListener listener =
                new RecordingListener(message -> attempts.computeIfAbsent(message.id(), id -> new AtomicInteger())
                                .incrementAndGet()
                        <= 2);
        transport.subscribe(new Subscription("membership", Set.of("order.paid"), 1), listener);

        TransportMessage message = RabbitMqTestSupport.message("order.paid", null, "{}");
        assertThat(transport.send(message)).succeedsWithin(DEADLINE);

        await().atMost(DEADLINE).until(() -> listener.accepted.contains(message.id()));
        List<Instant> times = listener.callTimes;
        assertThat(listener.callsFor(message.id())).hasSize(3);
        for (int i = 1; i < times.size(); i++) {
            assertThat(Duration.between(times.get(i - 1), times.get(i)))
                    .as("pause before attempt %d", i + 1)
                    .isGreaterThanOrEqualTo(backoff.minusMillis(50));
        }
        transport.close();
        assertThat(broker.messageCount(queue)).isZero();
    }

    @Test
    void aMessageTheInboxRefusesMoreOftenThanTheQueuesDeliveryLimitAllowsIsNotDropped() throws Exception {
        // a quorum queue drops a message returned to it more than once: a refused delivery must not be returned
        start(broker.transport()
                .redeliveryBackoff(Duration.ofMillis(100))
                .queueArguments(Map.of("x-queue-type", "quorum", "x-delivery-limit", 1)));
        String queue = broker.queue("loyalty");
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        RecordingListener listener =
                new RecordingListener(message -> attempts.computeIfAbsent(message.id(), id -> new AtomicInteger())
                                .incrementAndGet()
                        <= 4);
        transport.subscribe(new Subscription("loyalty", Set.of("order.paid"), 1), listener);

        TransportMessage message = RabbitMqTestSupport.message("order.paid", null, "{}");
        assertThat(transport.send(message)).succeedsWithin(DEADLINE);

        await().atMost(DEADLINE).until(() -> listener.accepted.contains(message.id()));
        assertThat(listener.callsFor(message.id()))
                .hasSize(5)
                .allSatisfy(call -> assertThat(call.headers())
                        .as("delivered once: a redelivery from a quorum queue carries x-delivery-count")
                        .doesNotContainKey("x-delivery-count"));
        transport.close();
        assertThat(broker.messageCount(queue)).isZero();
    }

    @Test
    void aQueueThatExistsWithOtherArgumentsIsLeftAsItIsAndTheSubscriptionSaysWhy() throws Exception {
        start(broker.transport().queueArguments(Map.of("x-queue-type", "quorum")));
        String queue = broker.queue("shipping");
        broker.admin(channel -> channel.queueDeclare(queue, true, false, false, null));

        assertThatThrownBy(() -> transport.subscribe(
                        new Subscription("shipping", Set.of("order.paid"), 1), new RecordingListener()))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("queue '" + queue + "'")
                .hasMessageContaining("x-queue-type");
        assertThat(broker.consumerCount(queue)).isZero();
    }

    @Test
    void aMessageWithoutAnOutboxIdGetsAStableIdThatARedeliveryKeeps() throws Exception {
        start(broker.transport());
        String queue = broker.queue("legacy");
        AtomicInteger calls = new AtomicInteger();
        RecordingListener listener = new RecordingListener(message -> calls.incrementAndGet() == 1);
        transport.subscribe(new Subscription("legacy", Set.of("legacy.event"), 1), listener);

        byte[] body = "{\"from\":\"a system without outbox\"}".getBytes(StandardCharsets.UTF_8);
        broker.admin(channel -> {
            channel.basicPublish(
                    broker.exchange,
                    "legacy.event",
                    new AMQP.BasicProperties.Builder()
                            .headers(Map.of("source", "legacy"))
                            .build(),
                    body);
            return null;
        });

        await().atMost(DEADLINE).until(() -> listener.accepted.size() == 1);
        assertThat(listener.calls).hasSize(2);
        String id = listener.calls.get(0).id();
        assertThat(id)
                .isEqualTo(InboundMessages.fallbackId(queue, "legacy.event", Map.of("source", "legacy"), body))
                .startsWith("rabbitmq:")
                .hasSize(36);
        assertThat(listener.calls.get(1).id()).isEqualTo(id);
        assertThat(listener.calls.get(1).body()).isEqualTo(body);
        assertThat(listener.calls.get(1).key()).isNull();
    }

    @Test
    void aConsumerCancelledByTheBrokerComesBackWithItsQueue() throws Exception {
        start(broker.transport());
        String queue = broker.queue("inventory");
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription("inventory", Set.of("order.paid"), 2), listener);

        broker.admin(channel -> channel.queueDelete(queue)); // an operator deletes the queue: consumers cancelled

        await().atMost(DEADLINE).ignoreExceptions().until(() -> broker.consumerCount(queue) == 2);
        TransportMessage message = RabbitMqTestSupport.message("order.paid", null, "{}");
        assertThat(transport.send(message)).succeedsWithin(DEADLINE);
        await().atMost(DEADLINE).until(() -> listener.accepted.contains(message.id()));
    }

    @Test
    void aClosedTransportRefusesSends() {
        start(broker.transport());

        transport.close();

        assertThat(transport.send(RabbitMqTestSupport.message("order.paid", null, "{}")))
                .failsWithin(Duration.ofSeconds(1))
                .withThrowableThat()
                .withMessageContaining("closed");
    }
}
