package io.github.outbox4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testing.FakeDatabase;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The plain-Java entry point wired end to end over a fake database and the in-memory transport. */
@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class OutboxTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration AWAIT = Duration.ofSeconds(10);

    record OrderPaid(String orderId) {}

    private final MutableClock clock = new MutableClock(T0);
    private final FakeDatabase database = new FakeDatabase();
    private final InMemoryTransport transport = new InMemoryTransport();
    private final AtomicInteger transportCloses = new AtomicInteger();
    private final AtomicBoolean brokerDown = new AtomicBoolean();
    private final RecordingAlertListener alerts = new RecordingAlertListener();
    private final Outbox outbox = Outbox.builder()
            .dataSource(database.dataSource())
            .storage(database.storage())
            .transport(new OutboxTransport() {
                @Override
                public String name() {
                    return "test";
                }

                @Override
                public CompletionStage<Void> send(TransportMessage message) {
                    if (brokerDown.get()) {
                        return java.util.concurrent.CompletableFuture.failedFuture(
                                new IllegalStateException("broker down"));
                    }
                    return transport.send(message);
                }

                @Override
                public void subscribe(Subscription subscription, InboundListener listener) {
                    transport.subscribe(subscription, listener);
                }

                @Override
                public void close() {
                    transportCloses.incrementAndGet();
                }
            })
            .clock(clock)
            .retryPolicy(RetryPolicy.builder()
                    .immediateBackoff(Duration.ZERO)
                    .maxAttempts(5)
                    .build())
            .settings(OutboxSettings.builder()
                    .dispatcherThreads(1) // one lane: what was offered first is sent first
                    .pollInterval(Duration.ofHours(1)) // the test polls with processDue()
                    .cleanupInterval(Duration.ofHours(1))
                    .build())
            .alertListener(alerts)
            .build();

    @AfterEach
    void close() {
        outbox.close();
    }

    @Test
    void messageIsSentOnceItsTransactionCommits() {
        outbox.start();

        String id =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-1")));

        await().atMost(AWAIT).until(() -> status(id) == MessageStatus.SUCCEEDED);
        assertThat(transport.sent()).singleElement().satisfies(message -> {
            assertThat(message.id()).isEqualTo(id);
            assertThat(message.topic()).isEqualTo("order.paid");
            assertThat(message.headers()).containsEntry(OutboxHeaders.MESSAGE_ID, id);
        });
        assertThat(row(id).attempts()).isOne();
        assertThat(database.commits()).isOne();
        assertThat(database.openConnections()).isZero();
    }

    @Test
    void aHandlerStillRunningWhenItsRowFallsDueIsNotRunAgainByTheRetryProcessor() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch firstCallRunning = new CountDownLatch(1);
        CountDownLatch releaseFirstCall = new CountDownLatch(1);
        outbox.subscribe("order.paid", "billing", OrderPaid.class, (payload, message) -> {
            if (calls.incrementAndGet() == 1) {
                firstCallRunning.countDown();
                releaseFirstCall.await();
            }
            return null;
        });
        outbox.start();
        String id =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-1")));
        assertThat(firstCallRunning.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        clock.advance(Duration.ofMinutes(5)); // the inbox row's first delay is over while its handler still runs
        outbox.processDue();
        releaseFirstCall.countDown();

        await().atMost(AWAIT)
                .until(() -> outbox.storage()
                                .find(MessageKind.RECEIVED, id, "billing")
                                .map(StoredMessage::status)
                                .orElse(null)
                        == MessageStatus.SUCCEEDED);
        assertThat(calls).as("the handler ran once").hasValue(1);
    }

    @Test
    void closeLetsTheHandlerOfAStoredMessageFinish() throws Exception {
        CountDownLatch handlerRunning = new CountDownLatch(1);
        CountDownLatch releaseHandler = new CountDownLatch(1);
        outbox.subscribe("order.paid", "billing", OrderPaid.class, (payload, message) -> {
            handlerRunning.countDown();
            releaseHandler.await();
            return null;
        });
        outbox.start();
        String id =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-1")));
        assertThat(handlerRunning.await(AWAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(AWAIT).until(() -> status(id) == MessageStatus.SUCCEEDED); // acknowledged once stored

        CompletableFuture<Void> closing = CompletableFuture.runAsync(outbox::close);

        await().atMost(AWAIT).during(Duration.ofMillis(300)).until(() -> !closing.isDone());
        releaseHandler.countDown();
        assertThat(closing).succeedsWithin(AWAIT);
        assertThat(outbox.storage().find(MessageKind.RECEIVED, id, "billing"))
                .get()
                .extracting(StoredMessage::status)
                .isEqualTo(MessageStatus.SUCCEEDED);
    }

    @Test
    void rolledBackTransactionSendsNothing() {
        outbox.start();
        IllegalStateException failure = new IllegalStateException("payment declined");

        assertThatThrownBy(() -> outbox.inTransaction((connection, publisher) -> {
                    publisher.publish("order.paid", new OrderPaid("phantom"));
                    throw failure;
                }))
                .isSameAs(failure);
        String next =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-2")));

        await().atMost(AWAIT).until(() -> status(next) == MessageStatus.SUCCEEDED);
        assertThat(transport.sent()).extracting(TransportMessage::id).containsExactly(next);
        assertThat(database.committed().rows(MessageKind.PUBLISHED))
                .extracting(StoredMessage::id)
                .containsExactly(next);
        assertThat(database.rollbacks()).isOne();
        assertThat(database.openConnections()).isZero();
    }

    @Test
    void unserializablePayloadFailsThePublishAndWritesNothing() {
        outbox.start();
        Object selfReferencing = new Object() {
            @SuppressWarnings("unused")
            public Object getSelf() {
                return this;
            }
        };

        assertThatThrownBy(() -> outbox.inTransaction(
                        (connection, publisher) -> publisher.publish("order.paid", selfReferencing)))
                .isInstanceOf(OutboxSerializationException.class);
        assertThat(database.committed().rows(MessageKind.PUBLISHED)).isEmpty();
    }

    @Test
    void publishingOutsideATransactionFails() {
        outbox.start();

        assertThatThrownBy(() -> outbox.publisher().publish("order.paid", new OrderPaid("o-1")))
                .isInstanceOf(OutboxTransactionRequiredException.class)
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void nestedTransactionJoinsTheOuterOne() {
        outbox.start();

        List<String> ids = outbox.inTransaction((outer, publisher) -> {
            String first = publisher.publish("order.paid", new OrderPaid("o-1"));
            String second = outbox.inTransaction((inner, innerPublisher) -> {
                assertThat(inner).isSameAs(outer);
                return innerPublisher.publish("stock.deduct", new OrderPaid("o-1"));
            });
            assertThat(database.committed().rows(MessageKind.PUBLISHED))
                    .as("nothing commits before the outer transaction")
                    .isEmpty();
            return List.of(first, second);
        });

        await().atMost(AWAIT).until(() -> ids.stream().allMatch(id -> status(id) == MessageStatus.SUCCEEDED));
        assertThat(database.commits()).isOne();
    }

    @Test
    void delayedMessageIsSentByTheRetryProcessorOnceItIsDue() {
        outbox.start();

        String id = outbox.inTransaction((connection, publisher) ->
                publisher.publishDelayed("order.paid", new OrderPaid("o-1"), Duration.ofSeconds(30)));

        assertThat(outbox.processDue()).isZero();
        clock.advance(Duration.ofSeconds(29));
        assertThat(outbox.processDue()).isZero();
        assertThat(transport.sent()).isEmpty();

        clock.advance(Duration.ofSeconds(1));
        assertThat(outbox.processDue()).isOne();
        assertThat(status(id)).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(transport.sent()).extracting(TransportMessage::id).containsExactly(id);
    }

    @Test
    void connectionPublisherSendsOnCommitAndNothingOnRollback() throws Exception {
        outbox.start();
        Connection connection = database.connection();
        ConnectionPublisher publisher = outbox.publisher(connection);

        assertThatThrownBy(() -> publisher.publish("order.paid", new OrderPaid("o-1")))
                .isInstanceOf(OutboxTransactionRequiredException.class);

        connection.setAutoCommit(false);
        publisher.publish("order.paid", new OrderPaid("rolled-back"));
        publisher.rollback();
        String id = publisher.publish("order.paid", new OrderPaid("o-1"));
        publisher.commit();

        await().atMost(AWAIT).until(() -> status(id) == MessageStatus.SUCCEEDED);
        assertThat(transport.sent()).extracting(TransportMessage::id).containsExactly(id);
        connection.close();
    }

    @Test
    void committedMessageNeverDispatchedIsSentAfterTheFirstDelay() throws Exception {
        outbox.start();
        Connection connection = database.connection();
        connection.setAutoCommit(false);
        String id = outbox.publisher(connection).publish("order.paid", new OrderPaid("o-1"));
        connection.commit(); // the caller committed, and its process died before it called committed()
        connection.close();

        clock.advance(RetryPolicy.DEFAULT_FIRST_DELAY.minusMillis(1));
        assertThat(outbox.processDue()).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(outbox.processDue()).isOne();

        assertThat(status(id)).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(transport.sent()).extracting(TransportMessage::id).containsExactly(id);
    }

    @Test
    void messageThatCannotBeSentIsRetriedThenFailedAndAlerted() {
        outbox.start();
        brokerDown.set(true);

        String id =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-1")));

        await().atMost(AWAIT).until(() -> row(id).attempts() == 3);
        assertThat(status(id)).isEqualTo(MessageStatus.RETRYING);
        clock.advance(Duration.ofMinutes(4));
        assertThat(outbox.processDue()).isOne();
        assertThat(row(id).attempts()).isEqualTo(4);
        clock.advance(Duration.ofMinutes(1));
        assertThat(outbox.processDue()).isOne();

        assertThat(status(id)).isEqualTo(MessageStatus.FAILED);
        assertThat(row(id).attempts()).isEqualTo(5);
        assertThat(alerts.alerts()).singleElement().satisfies(alert -> {
            assertThat(alert.messageIds()).containsExactly(id);
            assertThat(alert.lastError()).contains("broker down");
        });
        clock.advance(Duration.ofHours(1));
        assertThat(outbox.processDue()).isZero();
    }

    @Test
    void expiredRowsArePurged() {
        outbox.start();
        String id =
                outbox.inTransaction((connection, publisher) -> publisher.publish("order.paid", new OrderPaid("o-1")));
        await().atMost(AWAIT).until(() -> status(id) == MessageStatus.SUCCEEDED);

        assertThat(outbox.purgeExpired()).isZero();
        clock.advance(OutboxSettings.DEFAULT_SUCCEEDED_RETENTION.plusMillis(1));
        assertThat(outbox.purgeExpired()).isOne();
        assertThat(outbox.storage().find(MessageKind.PUBLISHED, id, null)).isEmpty();
    }

    @Test
    void startsOnceAndClosesIdempotently() {
        outbox.start();

        assertThatThrownBy(outbox::start).isInstanceOf(IllegalStateException.class);
        outbox.close();
        outbox.close();

        assertThat(database.committed().initializeCalls()).isOne();
        assertThat(transportCloses.get()).isOne();
    }

    @Test
    void builderRequiresADataSourceAndATransport() {
        assertThatThrownBy(() -> Outbox.builder().transport(transport).build())
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.data-source"));
        assertThatThrownBy(
                        () -> Outbox.builder().dataSource(database.dataSource()).build())
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.transport"));
        assertThatThrownBy(() -> Outbox.builder()
                        .dataSource(database.dataSource())
                        .transport(transport)
                        .dialect("db2")
                        .build())
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.storage.dialect"));
    }

    private StoredMessage row(String id) {
        return database.committed().published(id);
    }

    private MessageStatus status(String id) {
        return database.committed()
                .find(MessageKind.PUBLISHED, id, null)
                .map(StoredMessage::status)
                .orElse(null);
    }
}
