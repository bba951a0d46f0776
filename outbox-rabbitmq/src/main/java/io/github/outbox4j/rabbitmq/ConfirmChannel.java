package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.PermanentFailureException;
import io.github.outbox4j.spi.TransportMessage;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One publishing channel in confirm mode and the sends it has not yet had confirmed, by publish sequence
 * number. Each send's future completes when the broker acks it, fails when the broker nacks it, when it was
 * returned as unroutable (the return arrives before the ack), when the channel closes first, or when no
 * confirm came within the confirm timeout. A send larger than the broker's {@code max_message_size}, which
 * makes the broker close the channel, fails with a {@link PermanentFailureException}: sending it again cannot
 * help.
 *
 * <p>A channel is used for as long as it lives and never again once it has closed, even if the client's
 * automatic recovery reopens it: a recovered channel numbers its publishes from 1 again, and a confirm meant
 * for a new publish must never complete an old one. The transport replaces a dead channel with a new one.
 *
 * <p>{@link #publish} is called under the transport's publish lock (channels are not thread-safe for
 * publishing); the listeners run on the connection's I/O thread. Every pending send is completed exactly once,
 * by whoever removes it from {@link #outstanding}; its in-flight permit is released at that moment.
 */
final class ConfirmChannel {
    private static final Logger log = LoggerFactory.getLogger(ConfirmChannel.class);
    private static final Pattern MESSAGE_TOO_LARGE =
            Pattern.compile("message size \\d+ is larger than (?:configured )?max size (\\d+)");

    private final Channel channel;
    private final String exchange;
    private final ConcurrentNavigableMap<Long, Pending> outstanding = new ConcurrentSkipListMap<>();
    private volatile String closedBecause;

    private ConfirmChannel(Channel channel, String exchange) {
        this.channel = channel;
        this.exchange = exchange;
    }

    /** Opens a channel on {@code connection}, switches it to confirm mode and declares the exchange. */
    static ConfirmChannel open(Connection connection, String exchange) throws IOException {
        Channel channel = connection.createChannel();
        if (channel == null) {
            throw new IOException("the connection has no channel left (channel_max reached)");
        }
        ConfirmChannel confirms = new ConfirmChannel(channel, exchange);
        try {
            channel.addShutdownListener(confirms::closed);
            channel.addReturnListener(confirms::returned);
            channel.addConfirmListener(confirms::acked, confirms::nacked);
            channel.confirmSelect();
            // declared again on every new channel: also restores an exchange deleted while we ran, and keeps
            // the recovery record of the exchange on a channel that lives
            Topology.declareExchange(channel, exchange);
        } catch (IOException | RuntimeException e) {
            confirms.abort();
            throw e;
        }
        return confirms;
    }

    /** Whether this channel may still publish: open and never closed since it was created. */
    boolean usable() {
        return closedBecause == null && channel.isOpen();
    }

    /**
     * Publishes {@code message} with {@code mandatory=true}; the returned future completes once the broker has
     * confirmed it. Never throws once the send is registered: failures complete the future.
     *
     * @param release called exactly once when the send completes, whatever the outcome
     */
    CompletableFuture<Void> publish(TransportMessage message, AMQP.BasicProperties properties, Runnable release) {
        long sequence = channel.getNextPublishSeqNo();
        Pending pending =
                new Pending(sequence, message.id(), message.topic(), message.body().length, System.nanoTime(), release);
        outstanding.put(sequence, pending);
        try {
            channel.basicPublish(exchange, message.topic(), true, properties, message.body());
        } catch (IOException | RuntimeException e) {
            fail(pending, "could not publish message " + message.id() + " to RabbitMQ: " + e.getMessage(), e);
            return pending.future;
        }
        String closed = closedBecause;
        if (closed != null) {
            // closed while publishing: whether the broker got it is unknown, and a confirm can no longer come
            fail(pending, channelClosedMessage(pending, closed), null);
        }
        return pending.future;
    }

    /** Fails every send sent before {@code deadlineNanos} (a {@link System#nanoTime()} value). */
    void expireSentBefore(long deadlineNanos, String timeoutDescription) {
        for (Pending pending : outstanding.values()) {
            if (pending.sentAtNanos - deadlineNanos >= 0) {
                return; // sequence order is send order: the rest are younger
            }
            fail(
                    pending,
                    "no publisher confirm for message " + pending.messageId + " within " + timeoutDescription,
                    null);
        }
    }

    /** Waits until every send is confirmed, or until {@code deadlineNanos}; then fails what is left. */
    void drain(long deadlineNanos, String reason) {
        while (!outstanding.isEmpty() && System.nanoTime() - deadlineNanos < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        failAll(reason);
    }

    /** Closes the channel without waiting, and unregisters it from automatic recovery. */
    void abort() {
        try {
            channel.abort();
        } catch (IOException | RuntimeException e) {
            log.debug("Aborting publishing channel {} failed", channel.getChannelNumber(), e);
        }
    }

    int outstanding() {
        return outstanding.size();
    }

    private void acked(long deliveryTag, boolean multiple) {
        if (closedBecause != null) {
            return; // a recovered channel's confirms count from 1 again: they are not ours
        }
        if (multiple) {
            for (Pending pending : outstanding.headMap(deliveryTag, true).values()) {
                succeed(pending);
            }
        } else {
            Pending pending = outstanding.get(deliveryTag);
            if (pending != null) {
                succeed(pending);
            }
        }
    }

    private void nacked(long deliveryTag, boolean multiple) {
        if (closedBecause != null) {
            return;
        }
        if (multiple) {
            for (Pending pending : outstanding.headMap(deliveryTag, true).values()) {
                failNacked(pending);
            }
        } else {
            Pending pending = outstanding.get(deliveryTag);
            if (pending != null) {
                failNacked(pending);
            }
        }
    }

    private void failNacked(Pending pending) {
        fail(pending, "RabbitMQ nacked message " + pending.messageId + " (the broker could not take it)", null);
    }

    /** An unroutable message comes back before its ack: mark it so that the ack fails it. */
    private void returned(
            int replyCode,
            String replyText,
            String returnedExchange,
            String routingKey,
            AMQP.BasicProperties properties,
            byte[] body) {
        String messageId = properties == null ? null : properties.getMessageId();
        for (Pending pending : outstanding.values()) {
            if (pending.returnedBecause == null
                    && pending.routingKey.equals(routingKey)
                    && pending.messageId.equals(messageId)) {
                pending.returnedBecause = "no queue bound for routing key '" + routingKey + "' on exchange '"
                        + returnedExchange + "' (" + replyCode + " " + replyText + ")";
                return;
            }
        }
        log.debug("Returned message {} with routing key '{}' matches no pending send", messageId, routingKey);
    }

    private void closed(ShutdownSignalException cause) {
        closedBecause = describe(cause);
        long maxMessageSize = maxMessageSizeExceeded(cause);
        for (Pending pending : outstanding.values()) {
            if (maxMessageSize >= 0 && pending.bodySize > maxMessageSize) {
                failPermanently(
                        pending,
                        "RabbitMQ refused message " + pending.messageId + " as too large: its body is "
                                + pending.bodySize + " bytes, the broker's max_message_size " + maxMessageSize + " ("
                                + closedBecause + ")");
            } else {
                // the other sends in flight only lost their channel with it: they are retried
                fail(pending, channelClosedMessage(pending, closedBecause), null);
            }
        }
    }

    /**
     * The broker's {@code max_message_size} when it closed the channel because a message exceeded it, else -1.
     * RabbitMQ says so only in the text of a 406 PRECONDITION_FAILED close ("message size 70000 is larger than
     * configured max size 65536"); the channel dies with every send in flight on it, and only the sends larger
     * than the limit are the broker's refusal.
     */
    static long maxMessageSizeExceeded(ShutdownSignalException cause) {
        if (!cause.isHardError()
                && cause.getReason() instanceof AMQP.Channel.Close close
                && close.getReplyCode() == AMQP.PRECONDITION_FAILED
                && close.getReplyText() != null) {
            Matcher sizes = MESSAGE_TOO_LARGE.matcher(close.getReplyText());
            if (sizes.find()) {
                return Long.parseLong(sizes.group(1));
            }
        }
        return -1;
    }

    private void failAll(String reason) {
        for (Pending pending : outstanding.values()) {
            fail(pending, channelClosedMessage(pending, reason), null);
        }
    }

    private void succeed(Pending pending) {
        if (outstanding.remove(pending.sequence, pending)) {
            pending.release.run();
            String returned = pending.returnedBecause;
            if (returned == null) {
                pending.future.complete(null);
            } else {
                pending.future.completeExceptionally(
                        new OutboxException("RabbitMQ returned message " + pending.messageId + ": " + returned));
            }
        }
    }

    private void failPermanently(Pending pending, String message) {
        if (outstanding.remove(pending.sequence, pending)) {
            pending.release.run();
            pending.future.completeExceptionally(new PermanentFailureException(message));
        }
    }

    private void fail(Pending pending, String message, Throwable cause) {
        if (outstanding.remove(pending.sequence, pending)) {
            pending.release.run();
            pending.future.completeExceptionally(new OutboxException(message, cause));
        }
    }

    private static String channelClosedMessage(Pending pending, String reason) {
        return "no publisher confirm for message " + pending.messageId + ": " + reason;
    }

    static String describe(ShutdownSignalException cause) {
        String scope = cause.isHardError() ? "connection" : "channel";
        String by = cause.isInitiatedByApplication() ? "closed by the application" : "closed by the broker or network";
        Object reason = cause.getReason();
        return "RabbitMQ " + scope + " " + by + (reason == null ? "" : ": " + reason);
    }

    /** A send waiting for its confirm. */
    private static final class Pending {
        final long sequence;
        final String messageId;
        final String routingKey;
        final int bodySize;
        final long sentAtNanos;
        final Runnable release;
        final CompletableFuture<Void> future = new CompletableFuture<>();
        volatile String returnedBecause;

        Pending(long sequence, String messageId, String routingKey, int bodySize, long sentAtNanos, Runnable release) {
            this.sequence = sequence;
            this.messageId = messageId;
            this.routingKey = routingKey;
            this.bodySize = bodySize;
            this.sentAtNanos = sentAtNanos;
            this.release = release;
        }
    }
}
