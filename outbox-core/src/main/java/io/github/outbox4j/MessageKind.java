package io.github.outbox4j;

/** Which side of the pipeline a stored message belongs to: the outbox or the inbox. */
public enum MessageKind {
    /** A message this service publishes, kept in {@code msg_published}. */
    PUBLISHED,
    /** A message this service received for one consumer group, kept in {@code msg_received}. */
    RECEIVED
}
