package io.github.outbox4j.testing;

import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every alert it is told about, in order. Thread-safe. */
public final class RecordingAlertListener implements OutboxAlertListener {
    private final List<OutboxAlert> alerts = new CopyOnWriteArrayList<>();

    @Override
    public void onExhausted(OutboxAlert alert) {
        alerts.add(alert);
    }

    public List<OutboxAlert> alerts() {
        return List.copyOf(alerts);
    }
}
