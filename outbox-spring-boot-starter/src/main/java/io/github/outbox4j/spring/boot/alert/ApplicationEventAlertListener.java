package io.github.outbox4j.spring.boot.alert;

import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import java.util.Objects;
import org.springframework.context.ApplicationEventPublisher;

/** Publishes each alert as an {@link OutboxExhaustedEvent}. Thread-safe. */
final class ApplicationEventAlertListener implements OutboxAlertListener {
    private final ApplicationEventPublisher publisher;

    ApplicationEventAlertListener(ApplicationEventPublisher publisher) {
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public void onExhausted(OutboxAlert alert) {
        publisher.publishEvent(new OutboxExhaustedEvent(this, alert));
    }
}
