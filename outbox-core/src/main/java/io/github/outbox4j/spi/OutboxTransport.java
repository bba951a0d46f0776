package io.github.outbox4j.spi;

import java.util.concurrent.CompletionStage;

/**
 * Carries messages to a broker. {@link #send} is asynchronous so that many sends can be in flight at once;
 * its stage completes normally only once the broker has durably accepted the message (Kafka acknowledgment,
 * RabbitMQ publisher confirm with no return), and exceptionally otherwise. Implementations are thread-safe.
 */
public interface OutboxTransport extends AutoCloseable {

    /** A short name for logs and metrics, e.g. {@code kafka}. */
    String name();

    /** Connects; called once when the outbox starts. */
    default void start() {}

    /** Sends one message; must not block for the broker's answer. */
    CompletionStage<Void> send(TransportMessage message);

    /**
     * Starts receiving {@code subscription}'s topics as its group, handing messages to {@code listener} and
     * acknowledging them only after it has returned. Called after {@link #start()}, once per group. A
     * transport that only sends throws {@link UnsupportedOperationException}.
     */
    default void subscribe(Subscription subscription, InboundListener listener) {
        throw new UnsupportedOperationException("The " + name() + " transport cannot receive messages");
    }

    /** Stops receiving and releases connections; called once when the outbox closes. */
    @Override
    default void close() {}
}
