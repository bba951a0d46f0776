package io.github.outbox4j.alert;

import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs each alert at ERROR on the logger {@code io.github.outbox4j.alert}. Thread-safe. */
public final class LoggingAlertListener implements OutboxAlertListener {
    private static final Logger log = LoggerFactory.getLogger("io.github.outbox4j.alert");

    @Override
    public void onExhausted(OutboxAlert alert) {
        log.error("Outbox alert: {}", alert.summary());
    }
}
