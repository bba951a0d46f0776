package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;

/**
 * Logs the failed attempts of sends and handlers with noise reduction. A broker outage fails every message of a
 * topic within seconds, and a handler that throws on a message fails again every minute for fifty minutes; both
 * must show at {@code WARN}, with the stack trace of what went wrong, without burying the log. So per (side,
 * topic, group, and whether the message is now FAILED) one failure a minute is logged at {@code WARN}; those in
 * between are logged at {@code DEBUG} and counted into the next {@code WARN}. Thread-safe.
 */
final class FailureLog {
    static final Duration INTERVAL = Duration.ofMinutes(1);

    /** Topic names may be made up at run time: beyond this many (side, topic, group)s the windows start afresh. */
    private static final int MAX_WINDOWS = 10_000;

    private final Logger log;
    private final Clock clock;
    private final Map<Key, Window> windows = new HashMap<>();

    FailureLog(Logger log, Clock clock) {
        this.log = log;
        this.clock = clock;
    }

    /** An attempt failed and the message is due again at {@code next}. */
    void retrying(
            MessageKind kind, StoredMessage message, int attempts, int maxAttempts, Instant next, Throwable error) {
        String line = String.format(
                "%s failed (attempt %d of %d); next attempt at %s: %s",
                what(kind, message),
                attempts,
                maxAttempts,
                next.truncatedTo(ChronoUnit.MILLIS),
                MessageProcessor.describe(error));
        log(new Key(kind, message.topic(), message.group(), false), line, error);
    }

    /** The message is FAILED: its attempts are used up or its error is not worth retrying. */
    void exhausted(MessageKind kind, StoredMessage message, int attempts, Throwable error) {
        String line = String.format(
                "%s FAILED after %d %s; it is kept for a manual requeue: %s",
                what(kind, message),
                attempts,
                attempts == 1 ? "attempt" : "attempts",
                MessageProcessor.describe(error));
        log(new Key(kind, message.topic(), message.group(), true), line, error);
    }

    private void log(Key key, String line, Throwable error) {
        Instant now = clock.instant();
        Window ended;
        synchronized (this) {
            Window open = windows.get(key);
            if (open != null && now.isBefore(open.endsAt)) {
                open.counted++;
                ended = null;
            } else {
                if (open == null && windows.size() >= MAX_WINDOWS) {
                    windows.clear();
                }
                windows.put(key, new Window(now, now.plus(INTERVAL)));
                ended = open == null ? new Window(now, now) : open;
            }
        }
        if (ended == null) {
            log.debug("{}", line);
        } else if (ended.counted == 0) {
            log.warn("{}", line, error);
        } else {
            log.warn(
                    "{} [and {} more {} of this topic{} since {}, logged at DEBUG]",
                    line,
                    ended.counted,
                    (key.exhausted ? "FAILED message" : "failed attempt") + (ended.counted == 1 ? "" : "s"),
                    key.group == null ? "" : " and group",
                    ended.openedAt.truncatedTo(ChronoUnit.MILLIS),
                    error);
        }
    }

    private static String what(MessageKind kind, StoredMessage message) {
        return kind == MessageKind.PUBLISHED
                ? String.format("Sending message %s of topic '%s'", message.id(), message.topic())
                : String.format(
                        "Handling message %s of topic '%s' for group '%s'",
                        message.id(), message.topic(), message.group());
    }

    private record Key(MessageKind kind, String topic, String group, boolean exhausted) {}

    /** Failures counted, not logged at WARN, since {@code openedAt}. */
    private static final class Window {
        final Instant openedAt;
        final Instant endsAt;
        int counted;

        Window(Instant openedAt, Instant endsAt) {
            this.openedAt = openedAt;
            this.endsAt = endsAt;
        }
    }
}
