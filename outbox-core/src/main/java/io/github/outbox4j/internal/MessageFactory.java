package io.github.outbox4j.internal;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.PayloadTooLargeException;
import io.github.outbox4j.spi.OutboxSerializer;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TraceContextPropagator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a message to publish into its outbox row: a new id, the payload as JSON (serialized and measured
 * first, so a payload that cannot be serialized or is larger than the limit fails before anything is
 * written), the {@code outbox-*} headers, and the time it is first due. Thread-safe.
 */
public final class MessageFactory {
    private final MessageIds ids;
    private final OutboxSerializer serializer;
    private final Clock clock;
    private final Duration firstDelay;
    private final TraceContextPropagator tracing;
    private final long maxPayloadSize;

    public MessageFactory(
            MessageIds ids,
            OutboxSerializer serializer,
            Clock clock,
            Duration firstDelay,
            TraceContextPropagator tracing,
            long maxPayloadSize) {
        this.ids = ids;
        this.serializer = serializer;
        this.clock = clock;
        this.firstDelay = firstDelay;
        this.tracing = tracing;
        this.maxPayloadSize = maxPayloadSize;
    }

    /**
     * The row for {@code message}. An undelayed row is due at its first-delay time: until then the
     * in-process dispatcher owns it, and only if that process dies does the retry processor take it.
     *
     * @throws PayloadTooLargeException if the JSON payload is larger than {@code outbox.publish.max-payload-size}
     */
    public StoredMessage toRow(OutboxMessage message) {
        String payload = serializer.serialize(message.payload());
        long size = utf8Length(payload);
        if (size > maxPayloadSize) {
            throw new PayloadTooLargeException(message.topic(), size, maxPayloadSize);
        }
        String id = ids.next();
        Map<String, String> headers = new LinkedHashMap<>(message.headers());
        headers.putAll(tracing.currentContext());
        headers.put(OutboxHeaders.MESSAGE_ID, id);
        headers.put(OutboxHeaders.MESSAGE_NAME, message.topic());
        if (message.key() != null) {
            headers.put(OutboxHeaders.MESSAGE_KEY, message.key());
        }
        headers.put(OutboxHeaders.CORRELATION_ID, message.correlationId() != null ? message.correlationId() : id);
        if (message.callbackTopic() != null) {
            headers.put(OutboxHeaders.CALLBACK_NAME, message.callbackTopic());
        }
        headers.put(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
        Instant now = clock.instant();
        Instant due = now.plus(isDelayed(message) ? message.delay() : firstDelay);
        return StoredMessage.pending(id, null, message.topic(), message.key(), headers, payload, now, due);
    }

    /** The length of {@code text} in UTF-8 bytes, counted without encoding it. */
    static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1; // a lone surrogate is encoded as '?'
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** Delayed messages are left to the retry processor, which claims them once their time has come. */
    public static boolean isDelayed(OutboxMessage message) {
        return !message.delay().isZero();
    }
}
