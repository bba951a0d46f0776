package io.github.outbox4j;

/**
 * A payload is larger, as UTF-8 JSON, than {@code outbox.publish.max-payload-size}. Thrown by {@code publish}
 * before anything is written, so the caller's transaction can roll back with nothing half-written.
 */
public class PayloadTooLargeException extends PermanentFailureException {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final long size;
    private final long limit;

    public PayloadTooLargeException(String topic, long size, long limit) {
        super("The payload of a message to topic '" + topic + "' is " + size
                + " bytes as JSON, more than outbox.publish.max-payload-size (" + limit + " bytes); nothing was"
                + " written");
        this.topic = topic;
        this.size = size;
        this.limit = limit;
    }

    /** The topic of the refused message. */
    public String topic() {
        return topic;
    }

    /** The payload's size in bytes, as UTF-8 JSON. */
    public long size() {
        return size;
    }

    /** The limit it exceeds, in bytes. */
    public long limit() {
        return limit;
    }
}
