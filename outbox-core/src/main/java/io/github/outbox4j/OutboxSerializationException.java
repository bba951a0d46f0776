package io.github.outbox4j;

/**
 * A payload could not be turned into JSON (at publish) or a message body could not be read as the
 * expected type (at receive). At publish the exception reaches the caller before anything is written, so
 * the caller's transaction can roll back with nothing half-written.
 */
public class OutboxSerializationException extends OutboxException {
    private static final long serialVersionUID = 1L;

    public OutboxSerializationException(String message, Throwable cause) {
        super(message, cause);
    }
}
