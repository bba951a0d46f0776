package io.github.outbox4j;

/** Names of the headers Outbox4j puts on every message on the wire. */
public final class OutboxHeaders {
    /** The message id: unique, time-ordered (a UUID version 7). */
    public static final String MESSAGE_ID = "outbox-msg-id";
    /** The topic the message was published to. */
    public static final String MESSAGE_NAME = "outbox-msg-name";
    /** The ordering key, when one was given. */
    public static final String MESSAGE_KEY = "outbox-msg-key";
    /** When the message was handed to the broker, ISO-8601 UTC. */
    public static final String SENT_TIME = "outbox-sent-time";
    /** The correlation id: the id of the message a callback answers, else the message's own id. */
    public static final String CORRELATION_ID = "outbox-corr-id";
    /** The topic a consumer's return value is published to. */
    public static final String CALLBACK_NAME = "outbox-callback-name";
    /** Always {@code application/json}. */
    public static final String CONTENT_TYPE = "content-type";
    /** W3C trace context, when tracing is on. */
    public static final String TRACEPARENT = "traceparent";

    /** The content type of every body Outbox4j sends. */
    public static final String JSON = "application/json";

    private OutboxHeaders() {}
}
