package io.github.outbox4j;

/**
 * Handles the messages of one topic for one consumer group. It runs inside the inbox transaction: whatever
 * it writes through {@link ReceivedMessage#connection()} commits together with the inbox row's
 * {@code SUCCEEDED}, so its effects apply once per message and group however often the message arrives.
 * Throwing fails the attempt: the transaction rolls back and the retry policy tries again later.
 *
 * <p>A non-null return value is published to the message's callback topic, if it named one, in the same
 * transaction. Called from several threads at once.
 *
 * @param <T> the payload type the JSON body is read as
 */
@FunctionalInterface
public interface MessageHandler<T> {

    Object handle(T payload, ReceivedMessage message) throws Exception;
}
