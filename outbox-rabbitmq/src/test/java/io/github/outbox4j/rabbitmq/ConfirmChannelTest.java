package io.github.outbox4j.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.github.outbox4j.PermanentFailureException;
import io.github.outbox4j.spi.TransportMessage;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The confirm bookkeeping, each path made to happen on demand: the broker's acks, nacks and returns are played
 * by hand on a stand-in channel. The same paths against the real broker are in {@code RabbitMqOutboxTransportIT}.
 */
class ConfirmChannelTest {
    private static final Duration NOW = Duration.ZERO;

    private final FakeChannel fake = new FakeChannel();
    private final Semaphore permits = new Semaphore(10);
    private ConfirmChannel confirms;

    @BeforeEach
    void open() throws IOException {
        confirms = ConfirmChannel.open(fake.connection(), "outbox.default.router");
        assertThat(fake.confirmSelected).isTrue();
        assertThat(fake.declaredExchanges).containsExactly("outbox.default.router");
    }

    @Test
    void aMultipleAckCompletesEverySendUpToItsTag() throws IOException {
        CompletableFuture<Void> first = send("a");
        CompletableFuture<Void> second = send("b");
        CompletableFuture<Void> third = send("c");

        fake.ack.handle(2, true);

        assertThat(first).isCompleted();
        assertThat(second).isCompleted();
        assertThat(third).isNotDone();
        assertThat(permits.availablePermits()).isEqualTo(9);
        fake.ack.handle(3, false);
        assertThat(third).isCompleted();
        assertThat(permits.availablePermits()).isEqualTo(10);
        assertThat(fake.published).containsExactly("a", "b", "c");
    }

    @Test
    void aNackFailsTheSend() throws IOException {
        CompletableFuture<Void> first = send("a");
        CompletableFuture<Void> second = send("b");

        fake.nack.handle(2, true);

        assertThat(first).isCompletedExceptionally();
        assertThat(second)
                .failsWithin(NOW)
                .withThrowableThat()
                .havingRootCause()
                .withMessageContaining("nacked message b");
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    @Test
    void aReturnedMessageFailsWhenItsAckArrives() throws IOException {
        CompletableFuture<Void> routed = send("a");
        CompletableFuture<Void> unroutable = send("b");

        fake.returns.handleReturn(
                312,
                "NO_ROUTE",
                "outbox.default.router",
                "topic",
                new AMQP.BasicProperties.Builder().messageId("b").build(),
                new byte[0]);
        fake.ack.handle(2, true);

        assertThat(routed).isCompleted();
        assertThat(unroutable)
                .failsWithin(NOW)
                .withThrowableThat()
                .havingRootCause()
                .withMessageContaining("no queue bound for routing key 'topic'")
                .withMessageContaining("312 NO_ROUTE");
    }

    @Test
    void aClosedChannelFailsEveryOutstandingSendAndIgnoresLaterConfirms() throws IOException {
        CompletableFuture<Void> first = send("a");
        CompletableFuture<Void> second = send("b");

        fake.shutdown(new ShutdownSignalException(true, false, null, fake.channel));
        fake.ack.handle(2, true); // a recovered channel counts from 1 again: not ours

        assertThat(first).isCompletedExceptionally();
        assertThat(second)
                .failsWithin(NOW)
                .withThrowableThat()
                .havingRootCause()
                .withMessageContaining("closed by the broker or network");
        assertThat(confirms.usable()).isFalse();
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    @Test
    void theSendLargerThanTheBrokersMaxMessageSizeFailsPermanentlyTheOthersOnTheChannelAreRetried() {
        CompletableFuture<Void> small = send("a", 10);
        CompletableFuture<Void> large = send("b", 70_000);
        CompletableFuture<Void> after = send("c", 65_536);

        AMQP.Channel.Close close = new AMQP.Channel.Close.Builder()
                .replyCode(406)
                .replyText("PRECONDITION_FAILED - message size 70000 is larger than configured max size 65536")
                .build();
        fake.shutdown(new ShutdownSignalException(false, false, close, fake.channel));

        assertThat(large)
                .failsWithin(NOW)
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(PermanentFailureException.class)
                .withMessageContaining("refused message b as too large")
                .withMessageContaining("70000 bytes")
                .withMessageContaining("max_message_size 65536");
        for (CompletableFuture<Void> other : List.of(small, after)) {
            assertThat(other)
                    .failsWithin(NOW)
                    .withThrowableThat()
                    .havingCause()
                    .isNotInstanceOf(PermanentFailureException.class)
                    .withMessageContaining("no publisher confirm");
        }
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    @Test
    void otherPreconditionFailuresAreNoSizeLimit() {
        AMQP.Channel.Close close = new AMQP.Channel.Close.Builder()
                .replyCode(406)
                .replyText("PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x'")
                .build();

        assertThat(ConfirmChannel.maxMessageSizeExceeded(new ShutdownSignalException(false, false, close, null)))
                .isEqualTo(-1);
        assertThat(ConfirmChannel.maxMessageSizeExceeded(new ShutdownSignalException(true, false, null, null)))
                .isEqualTo(-1);
    }

    @Test
    void aSendThatRacesTheClosingOfItsChannelFails() {
        fake.closeDuringNextPublish = true;

        assertThat(send("a")).isCompletedExceptionally();
        assertThat(confirms.outstanding()).isZero();
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    @Test
    void aPublishThatThrowsFailsTheSend() {
        fake.failNextPublish = true;

        assertThat(send("a"))
                .failsWithin(NOW)
                .withThrowableThat()
                .havingCause()
                .withMessageContaining("could not publish message a to RabbitMQ: socket closed");
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    @Test
    void sendsUnconfirmedForTooLongFailOldestFirst() {
        CompletableFuture<Void> old = send("a");
        long between = System.nanoTime();
        CompletableFuture<Void> young = send("b");

        confirms.expireSentBefore(between, "30s");

        assertThat(old)
                .failsWithin(NOW)
                .withThrowableThat()
                .havingRootCause()
                .withMessageContaining("no publisher confirm for message a within 30s");
        assertThat(young).isNotDone();
        confirms.drain(System.nanoTime(), "closing");
        assertThat(young).isCompletedExceptionally();
        assertThat(permits.availablePermits()).isEqualTo(10);
    }

    private CompletableFuture<Void> send(String id) {
        return send(id, 0);
    }

    private CompletableFuture<Void> send(String id, int bodySize) {
        permits.acquireUninterruptibly();
        TransportMessage message = new TransportMessage(id, "topic", null, java.util.Map.of(), new byte[bodySize]);
        return confirms.publish(message, InboundMessages.toProperties(message), permits::release);
    }

    /** A channel that records what is done to it and lets the test play the broker's side. */
    private static final class FakeChannel {
        final List<String> published = new ArrayList<>();
        final List<String> declaredExchanges = new ArrayList<>();
        final List<ShutdownListener> shutdownListeners = new ArrayList<>();
        boolean confirmSelected;
        boolean open = true;
        boolean failNextPublish;
        boolean closeDuringNextPublish;
        long nextSequence = 1;
        ConfirmCallback ack;
        ConfirmCallback nack;
        ReturnListener returns;
        final Channel channel = (Channel) Proxy.newProxyInstance(
                Channel.class.getClassLoader(), new Class<?>[] {Channel.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "getNextPublishSeqNo":
                            return nextSequence;
                        case "basicPublish":
                            if (failNextPublish) {
                                failNextPublish = false;
                                throw new IOException("socket closed");
                            }
                            if (closeDuringNextPublish) {
                                closeDuringNextPublish = false;
                                shutdown(new ShutdownSignalException(false, false, null, proxy));
                            }
                            nextSequence++;
                            published.add(((AMQP.BasicProperties) args[3]).getMessageId());
                            return null;
                        case "addShutdownListener":
                            shutdownListeners.add((ShutdownListener) args[0]);
                            return null;
                        case "addReturnListener":
                            returns = (ReturnListener) args[0];
                            return null;
                        case "addConfirmListener":
                            ack = (ConfirmCallback) args[0];
                            nack = (ConfirmCallback) args[1];
                            return null;
                        case "confirmSelect":
                            confirmSelected = true;
                            return null;
                        case "exchangeDeclare":
                            declaredExchanges.add((String) args[0]);
                            return null;
                        case "isOpen":
                            return open;
                        case "getChannelNumber":
                            return 1;
                        case "abort":
                            open = false;
                            return null;
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });

        void shutdown(ShutdownSignalException cause) {
            open = false;
            shutdownListeners.forEach(listener -> listener.shutdownCompleted(cause));
        }

        Connection connection() {
            return (Connection) Proxy.newProxyInstance(
                    Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                        if (method.getName().equals("createChannel")) {
                            return channel;
                        }
                        throw new UnsupportedOperationException(method.getName());
                    });
        }
    }
}
