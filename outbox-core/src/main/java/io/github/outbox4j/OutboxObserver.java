package io.github.outbox4j;

import java.time.Duration;

/**
 * Told what happens to messages, for metrics and tracing: every method has an empty default, so an
 * implementation overrides what it counts. The Spring Boot starter maps these to Micrometer meters.
 * Called from engine threads, often concurrently: implementations must be thread-safe and fast, and must not
 * throw.
 */
public interface OutboxObserver {

    /** Does nothing. */
    OutboxObserver NONE = new OutboxObserver() {};

    /** A message was written to the outbox (its transaction may still roll back). */
    default void published(String topic) {}

    /** The broker acknowledged a message; {@code sinceAdded} runs from the outbox insert to the acknowledgment. */
    default void sent(String topic, Duration sinceAdded) {}

    /** One send attempt failed. */
    default void sendFailed(String topic, Throwable error) {}

    /** A message was stored in the inbox of {@code group}. */
    default void received(String topic, String group) {}

    /** A message already received by {@code group} arrived again and was skipped. */
    default void duplicate(String topic, String group) {}

    /** A handler succeeded; {@code sinceReceived} runs from the inbox insert to the commit of the handler. */
    default void handled(String topic, String group, Duration sinceReceived) {}

    /** One handler attempt failed. */
    default void handlerFailed(String topic, String group, Throwable error) {}

    /** A message became FAILED: its attempts are exhausted, or its failure cannot heal. */
    default void exhausted(MessageKind kind, String topic, String group) {}
}
