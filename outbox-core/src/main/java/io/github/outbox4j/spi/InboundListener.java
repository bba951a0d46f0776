package io.github.outbox4j.spi;

import java.util.List;

/**
 * Where a transport hands the messages it receives: the inbox. {@link #onMessages} returns once every
 * message is durably stored in {@code msg_received} (or recognized as a duplicate of one stored before);
 * only then may the transport acknowledge them (Kafka offset commit, AMQP ack). If it throws, nothing may be
 * acknowledged: the transport redelivers them later, after a pause.
 *
 * <p>A received {@link TransportMessage}'s id is its {@code outbox-msg-id} header; a message without one
 * gets an id from its position (e.g. {@code kafka:topic:partition:offset}) so that a redelivery is still
 * recognized, and the inbox stores it as FAILED for its missing header. Thread-safe: each consumer thread
 * calls it with its own messages.
 */
@FunctionalInterface
public interface InboundListener {

    void onMessages(String group, List<TransportMessage> messages);
}
