package io.github.outbox4j.spring.boot.alert;

import io.github.outbox4j.OutboxAlert;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * Published in the application context for each outbox alert: messages of one topic (and consumer group) whose
 * attempts are exhausted, now {@code FAILED} and waiting for a person. Listen with {@code @EventListener}; listeners
 * run on an engine thread, so a slow one should hand its work off ({@code @Async}).
 */
public class OutboxExhaustedEvent extends ApplicationEvent {
    private static final long serialVersionUID = 1L;

    private final transient OutboxAlert alert;

    public OutboxExhaustedEvent(Object source, OutboxAlert alert) {
        super(source);
        this.alert = Objects.requireNonNull(alert, "alert");
    }

    /** What failed: kind, topic, group, how many messages, some of their ids, the last error. */
    public OutboxAlert alert() {
        return alert;
    }

    @Override
    public String toString() {
        return "OutboxExhaustedEvent[" + alert.summary() + "]";
    }
}
