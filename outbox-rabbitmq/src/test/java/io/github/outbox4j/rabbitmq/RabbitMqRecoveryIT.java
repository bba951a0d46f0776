package io.github.outbox4j.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.rabbitmq.RabbitMqTestSupport.RecordingListener;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testkit.RabbitMqBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transport through a dropped connection and a stopped broker, driven with {@code rabbitmqctl}
 * ({@link RabbitMqBroker}). The broker is shared: it is always started again after each test.
 */
class RabbitMqRecoveryIT {
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration OUTAGE = Duration.ofSeconds(20);
    private static final Duration SEND_ANSWER = Duration.ofSeconds(5);

    private RabbitMqTestSupport broker;
    private RabbitMqOutboxTransport transport;
    private final Set<String> confirmed = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void setUp() {
        RabbitMqBroker.assumeControllable();
        broker = new RabbitMqTestSupport();
        transport = broker.transport().recoveryInterval(Duration.ofSeconds(1)).build();
        transport.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            RabbitMqBroker.startApp();
        } finally {
            if (transport != null) {
                transport.close();
            }
            if (broker != null) {
                broker.deleteAll();
            }
        }
    }

    @Test
    void afterADroppedConnectionConsumersAndPublishingResumeByThemselves() throws Exception {
        String queue = broker.queue("inventory");
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription("inventory", Set.of("order.paid"), 2), listener);
        sendAndAwaitConfirms(50);
        await().atMost(DEADLINE).until(() -> listener.accepted.containsAll(confirmed));

        assertThat(RabbitMqBroker.closeConnections(broker.connectionName)).isEqualTo(2);

        // sends fail fast while the connection is being recovered, then succeed again
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(this::sendOne);
        sendAndAwaitConfirms(50);
        await().atMost(DEADLINE).until(() -> listener.accepted.containsAll(confirmed));
        assertThat(broker.consumerCount(queue)).isEqualTo(2);
        transport.close();
        assertThat(broker.messageCount(queue)).as("messages left unacked").isZero();
    }

    @Test
    void whileTheBrokerIsStoppedSendsFailFastAndAfterwardsEverythingResumes() throws Exception {
        String queue = broker.queue("warehouse");
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription("warehouse", Set.of("order.paid"), 1), listener);
        sendAndAwaitConfirms(20);
        await().atMost(DEADLINE).until(() -> listener.accepted.containsAll(confirmed));

        AtomicInteger failed = new AtomicInteger();
        AtomicInteger succeeded = new AtomicInteger();
        AtomicInteger hung = new AtomicInteger();
        AtomicLong slowestMillis = new AtomicLong();
        try {
            RabbitMqBroker.stopApp();
            long outageEnds = System.nanoTime() + OUTAGE.toNanos();
            // a send every 250 ms for the whole outage: each must fail, and fast
            await().atMost(OUTAGE.plus(DEADLINE))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        long started = System.nanoTime();
                        CompletableFuture<Void> send = transport
                                .send(RabbitMqTestSupport.message("order.paid", null, "{}"))
                                .toCompletableFuture();
                        try {
                            send.get(SEND_ANSWER.toMillis(), TimeUnit.MILLISECONDS);
                            succeeded.incrementAndGet();
                        } catch (ExecutionException e) {
                            failed.incrementAndGet();
                        } catch (TimeoutException e) {
                            hung.incrementAndGet();
                        }
                        slowestMillis.accumulateAndGet(
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), Math::max);
                        return System.nanoTime() - outageEnds >= 0;
                    });
        } finally {
            RabbitMqBroker.startApp();
        }

        assertThat(hung).as("sends without an answer within %s", SEND_ANSWER).hasValue(0);
        assertThat(succeeded)
                .as("sends reported successful while the broker was stopped")
                .hasValue(0);
        assertThat(failed.get()).isGreaterThan(10);
        assertThat(slowestMillis.get()).as("slowest failure, ms").isLessThan(SEND_ANSWER.toMillis());

        // the same transport, not restarted: publishing and the consumer come back by themselves
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(this::sendOne);
        sendAndAwaitConfirms(20);
        await().atMost(DEADLINE).until(() -> listener.accepted.containsAll(confirmed));
        transport.close();
        assertThat(broker.messageCount(queue)).as("messages left unacked").isZero();
    }

    /** Sends {@code count} messages at once and waits until the broker confirmed each. */
    private void sendAndAwaitConfirms(int count) {
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            TransportMessage message = RabbitMqTestSupport.message("order.paid", "k" + i, "{\"n\":" + i + "}");
            ids.add(message.id());
            sends.add(transport.send(message).toCompletableFuture());
        }
        assertThat(CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)))
                .succeedsWithin(DEADLINE);
        confirmed.addAll(ids);
    }

    /** Sends one message; true once the broker confirmed it, false if it failed. Never waits forever. */
    private boolean sendOne() throws Exception {
        TransportMessage message = RabbitMqTestSupport.message("order.paid", null, "{}");
        try {
            transport.send(message).toCompletableFuture().get(SEND_ANSWER.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return false;
        }
        confirmed.add(message.id());
        return true;
    }
}
