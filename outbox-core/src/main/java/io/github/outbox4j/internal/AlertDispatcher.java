package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises alerts with noise reduction: per (side, topic, group) at most one alert per window. The first
 * exhausted message raises an alert at once and opens a window; the ones exhausted while it is open are
 * counted, and raised together when the window ends (by {@link #flush()}) or with the next message after
 * it. Thread-safe; listeners are called outside the lock.
 */
public final class AlertDispatcher {
    private static final Logger log = LoggerFactory.getLogger(AlertDispatcher.class);

    private final List<OutboxAlertListener> listeners;
    private final Duration window;
    private final Clock clock;
    private final Map<Key, Window> windows = new HashMap<>();

    public AlertDispatcher(List<OutboxAlertListener> listeners, Duration window, Clock clock) {
        this.listeners = List.copyOf(listeners);
        this.window = window;
        this.clock = clock;
    }

    /** Counts one message that has become FAILED; raises an alert now if its topic's window is closed. */
    public void exhausted(MessageKind kind, StoredMessage message, String error) {
        Key key = new Key(kind, message.topic(), message.group());
        Instant now = clock.instant();
        OutboxAlert alert;
        synchronized (this) {
            Window open = windows.get(key);
            if (open != null && now.isBefore(open.endsAt)) {
                open.add(message.id(), error);
                return;
            }
            Window pending = open == null ? new Window(now) : open;
            pending.add(message.id(), error);
            alert = pending.toAlert(key, now);
            windows.put(key, new Window(now.plus(window)));
        }
        raise(alert);
    }

    /** Raises the counted messages of every window that has ended; closes windows that counted nothing. */
    public void flush() {
        Instant now = clock.instant();
        List<OutboxAlert> due = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Key, Window> entry = it.next();
                Window ended = entry.getValue();
                if (now.isBefore(ended.endsAt)) {
                    continue;
                }
                if (ended.count == 0) {
                    it.remove();
                } else {
                    due.add(ended.toAlert(entry.getKey(), now));
                    entry.setValue(new Window(now.plus(window)));
                }
            }
        }
        due.forEach(this::raise);
    }

    private void raise(OutboxAlert alert) {
        for (OutboxAlertListener listener : listeners) {
            try {
                listener.onExhausted(alert);
            } catch (RuntimeException e) {
                log.error("Alert listener {} failed on: {}", listener, alert.summary(), e);
            }
        }
    }

    private record Key(MessageKind kind, String topic, String group) {
        Key {
            Objects.requireNonNull(topic);
        }
    }

    /** Messages counted while a window is open. */
    private static final class Window {
        final Instant endsAt;
        final List<String> sampleIds = new ArrayList<>();
        int count;
        String lastError;

        Window(Instant endsAt) {
            this.endsAt = endsAt;
        }

        void add(String id, String error) {
            count++;
            if (sampleIds.size() < OutboxAlert.MAX_SAMPLE_IDS) {
                sampleIds.add(id);
            }
            lastError = error;
        }

        OutboxAlert toAlert(Key key, Instant now) {
            return new OutboxAlert(key.kind, key.topic, key.group, count, sampleIds, lastError, now);
        }
    }
}
