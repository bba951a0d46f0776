package io.github.outbox4j.spring.boot;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxObserver;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells several observers, in order; one that throws is logged and does not keep the others from being told (the
 * engine requires observers not to throw). Thread-safe if they are.
 */
final class CompositeOutboxObserver implements OutboxObserver {
    private static final Logger log = LoggerFactory.getLogger(CompositeOutboxObserver.class);

    private final List<OutboxObserver> observers;

    CompositeOutboxObserver(List<OutboxObserver> observers) {
        this.observers = List.copyOf(observers);
    }

    private void each(java.util.function.Consumer<OutboxObserver> call) {
        for (OutboxObserver observer : observers) {
            try {
                call.accept(observer);
            } catch (RuntimeException e) {
                log.warn("Outbox observer {} failed", observer, e);
            }
        }
    }

    @Override
    public void published(String topic) {
        each(o -> o.published(topic));
    }

    @Override
    public void sent(String topic, Duration sinceAdded) {
        each(o -> o.sent(topic, sinceAdded));
    }

    @Override
    public void sendFailed(String topic, Throwable error) {
        each(o -> o.sendFailed(topic, error));
    }

    @Override
    public void received(String topic, String group) {
        each(o -> o.received(topic, group));
    }

    @Override
    public void duplicate(String topic, String group) {
        each(o -> o.duplicate(topic, group));
    }

    @Override
    public void handled(String topic, String group, Duration sinceReceived) {
        each(o -> o.handled(topic, group, sinceReceived));
    }

    @Override
    public void handlerFailed(String topic, String group, Throwable error) {
        each(o -> o.handlerFailed(topic, group, error));
    }

    @Override
    public void exhausted(MessageKind kind, String topic, String group) {
        each(o -> o.exhausted(kind, topic, group));
    }
}
