package io.github.outbox4j;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A message to publish: topic, payload and the optional key, headers, delay and callback topic.
 * Immutable and thread-safe once built.
 *
 * <pre>{@code
 * publisher.publish(OutboxMessage.builder("order.paid", event)
 *         .key(order.id())                 // same key, same Kafka partition
 *         .header("tenant", "eu-1")
 *         .build());
 * }</pre>
 */
public final class OutboxMessage {
    private final String topic;
    private final Object payload;
    private final String key;
    private final Map<String, String> headers;
    private final Duration delay;
    private final String callbackTopic;
    private final String correlationId;

    private OutboxMessage(Builder builder) {
        this.topic = builder.topic;
        this.payload = builder.payload;
        this.key = builder.key;
        this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(builder.headers));
        this.delay = builder.delay;
        this.callbackTopic = builder.callbackTopic;
        this.correlationId = builder.correlationId;
    }

    /** Starts a message to {@code topic} carrying {@code payload} (serialized as JSON). */
    public static Builder builder(String topic, Object payload) {
        return new Builder(topic, payload);
    }

    public String topic() {
        return topic;
    }

    public Object payload() {
        return payload;
    }

    /** The ordering / partition key, or {@code null} (the message id is then used on Kafka). */
    public String key() {
        return key;
    }

    /** Application headers; never {@code null}. */
    public Map<String, String> headers() {
        return headers;
    }

    /** How long after commit the message may be sent at the earliest; {@link Duration#ZERO} for at once. */
    public Duration delay() {
        return delay;
    }

    /** The topic a consumer's return value should be published to, or {@code null}. */
    public String callbackTopic() {
        return callbackTopic;
    }

    /** The id of the message this one answers (a callback), or {@code null}: the message's own id is used. */
    public String correlationId() {
        return correlationId;
    }

    /** Builds an {@link OutboxMessage}; each setter validates its argument. Not thread-safe. */
    public static final class Builder {
        private final String topic;
        private final Object payload;
        private String key;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private Duration delay = Duration.ZERO;
        private String callbackTopic;
        private String correlationId;

        private Builder(String topic, Object payload) {
            this.topic = requireText(topic, "topic");
            this.payload = Objects.requireNonNull(payload, "payload must not be null");
        }

        public Builder key(String key) {
            this.key = key;
            return this;
        }

        /** Adds one application header. Names starting with {@code outbox-} are reserved. */
        public Builder header(String name, String value) {
            requireText(name, "header name");
            if (name.regionMatches(true, 0, "outbox-", 0, 7)) {
                throw new IllegalArgumentException(
                        "header name '" + name + "' is reserved: names starting with 'outbox-' belong to Outbox4j");
            }
            headers.put(name, Objects.requireNonNull(value, () -> "value of header '" + name + "' must not be null"));
            return this;
        }

        public Builder headers(Map<String, String> headers) {
            Objects.requireNonNull(headers, "headers must not be null").forEach(this::header);
            return this;
        }

        /** Sends the message no earlier than {@code delay} after commit. */
        public Builder delay(Duration delay) {
            Objects.requireNonNull(delay, "delay must not be null");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("delay must not be negative, was " + delay);
            }
            this.delay = delay;
            return this;
        }

        public Builder callbackTopic(String callbackTopic) {
            this.callbackTopic = callbackTopic == null ? null : requireText(callbackTopic, "callback topic");
            return this;
        }

        /** Marks this message as the answer to message {@code correlationId} ({@code outbox-corr-id}). */
        public Builder correlationId(String correlationId) {
            this.correlationId = correlationId == null ? null : requireText(correlationId, "correlation id");
            return this;
        }

        public OutboxMessage build() {
            return new OutboxMessage(this);
        }

        private static String requireText(String value, String what) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(what + " must not be null or blank");
            }
            return value;
        }
    }
}
