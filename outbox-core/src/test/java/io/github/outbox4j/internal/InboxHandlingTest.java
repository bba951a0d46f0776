package io.github.outbox4j.internal;

import static io.github.outbox4j.MessageKind.RECEIVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testing.InMemoryOutboxStorage;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The inbox returns once a delivery is stored, and bounds the messages stored and not yet handled. */
@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class InboxHandlingTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration AWAIT = Duration.ofSeconds(10);
    private static final String GROUP = "billing";
    private static final String TOPIC = "order.paid";
    private static final int MAX_IN_HANDLING = 2;

    private final MutableClock clock = new MutableClock(T0);
    private final InMemoryOutboxStorage storage = new InMemoryOutboxStorage();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    /** Each handler call, by message id, completed when the test lets it end. */
    private final Map<String, CompletableFuture<Void>> handlerCalls = new ConcurrentHashMap<>();

    private final Inbox inbox = inbox();

    @AfterEach
    void stop() {
        handlerCalls.values().forEach(call -> call.complete(null));
        timer.shutdownNow();
    }

    @Test
    void aDeliveryIsTakenOnceStoredWhileItsHandlerStillRuns() {
        inbox.onMessages(GROUP, List.of(message("m-1")));

        assertThat(status("m-1"))
                .as("stored before the transport may acknowledge")
                .isEqualTo(MessageStatus.PENDING);
        await().atMost(AWAIT).until(() -> handlerCalls.containsKey("m-1"));
        assertThat(inbox.awaitHandled(Duration.ofMillis(50))).isFalse();

        handlerCalls.get("m-1").complete(null);

        assertThat(inbox.awaitHandled(AWAIT)).isTrue();
        assertThat(status("m-1")).isEqualTo(MessageStatus.SUCCEEDED);
    }

    @Test
    void aDeliveryWaitsWhileTheLimitOfMessagesIsInHandling() {
        inbox.onMessages(GROUP, List.of(message("m-1"), message("m-2")));
        await().atMost(AWAIT).until(() -> handlerCalls.size() == MAX_IN_HANDLING);

        CompletableFuture<Void> third =
                CompletableFuture.runAsync(() -> inbox.onMessages(GROUP, List.of(message("m-3"))));

        await().atMost(AWAIT).during(Duration.ofMillis(300)).until(() -> !third.isDone());
        handlerCalls.get("m-1").complete(null);
        handlerCalls.get("m-2").complete(null);
        assertThat(third).succeedsWithin(AWAIT);
        await().atMost(AWAIT).until(() -> handlerCalls.containsKey("m-3"));
        handlerCalls.get("m-3").complete(null);
        assertThat(inbox.awaitHandled(AWAIT)).isTrue();
        assertThat(List.of("m-1", "m-2", "m-3"))
                .allSatisfy(id -> assertThat(status(id)).isEqualTo(MessageStatus.SUCCEEDED));
    }

    @Test
    void aDeliveryLargerThanTheLimitIsTakenWhole() {
        List<TransportMessage> delivery =
                List.of(message("m-1"), message("m-2"), message("m-3"), message("m-4"), message("m-5"));

        CompletableFuture<Void> taken = CompletableFuture.runAsync(() -> inbox.onMessages(GROUP, delivery));

        assertThat(taken).succeedsWithin(AWAIT);
        await().atMost(AWAIT).until(() -> handlerCalls.size() == delivery.size());
        handlerCalls.values().forEach(call -> call.complete(null));
        assertThat(inbox.awaitHandled(AWAIT)).isTrue();
        assertThat(storage.count(RECEIVED, MessageStatus.SUCCEEDED)).isEqualTo(delivery.size());
    }

    private MessageStatus status(String id) {
        return storage.find(RECEIVED, id, GROUP).orElseThrow().status();
    }

    private static TransportMessage message(String id) {
        return new TransportMessage(
                id,
                TOPIC,
                null,
                Map.of(OutboxHeaders.MESSAGE_ID, id),
                "{\"orderId\":\"o-1\"}".getBytes(StandardCharsets.UTF_8));
    }

    private Inbox inbox() {
        Subscribers subscribers = new Subscribers();
        subscribers.add(TOPIC, GROUP, String.class, 1, (payload, message) -> null);
        AlertDispatcher alerts =
                new AlertDispatcher(List.of(new RecordingAlertListener()), Duration.ofMinutes(5), clock);
        MessageProcessor handlers = new MessageProcessor(
                RECEIVED,
                storage,
                RetryPolicy.builder().immediateBackoff(Duration.ZERO).build(),
                (message, attempt) -> handlerCalls.computeIfAbsent(message.id(), id -> new CompletableFuture<>()),
                alerts,
                clock,
                timer,
                Duration.ofMinutes(1),
                Duration.ofHours(24),
                Duration.ofDays(15),
                OutboxObserver.NONE);
        return new Inbox(
                storage,
                subscribers,
                handlers,
                alerts,
                clock,
                RetryPolicy.DEFAULT_FIRST_DELAY,
                Duration.ofDays(15),
                OutboxObserver.NONE,
                MAX_IN_HANDLING);
    }
}
