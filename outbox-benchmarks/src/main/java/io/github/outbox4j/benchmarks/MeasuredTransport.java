package io.github.outbox4j.benchmarks;

import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The real transport, watched: counts the messages the broker acknowledged and tells {@link #onAcknowledged} about
 * each one at the moment its send completes (the Kafka acknowledgment or the RabbitMQ publisher confirm), which is
 * where the engine's {@code OutboxObserver.sent} is called too. The message itself is needed here, not only its
 * topic: its headers carry the time the benchmark scheduled it. Thread-safe.
 */
final class MeasuredTransport implements OutboxTransport {
    private final OutboxTransport delegate;
    private final LongAdder acknowledged = new LongAdder();
    private volatile Consumer<TransportMessage> onAcknowledged = message -> {};

    MeasuredTransport(OutboxTransport delegate) {
        this.delegate = delegate;
    }

    void onAcknowledged(Consumer<TransportMessage> listener) {
        this.onAcknowledged = listener;
    }

    long acknowledged() {
        return acknowledged.sum();
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public void start() {
        delegate.start();
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        return delegate.send(message).whenComplete((ignored, error) -> {
            if (error == null) {
                acknowledged.increment();
                onAcknowledged.accept(message);
            }
        });
    }

    @Override
    public void subscribe(Subscription subscription, InboundListener listener) {
        delegate.subscribe(subscription, listener);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
