package io.github.outbox4j;

/**
 * Base of the unchecked exceptions Outbox4j throws. Subtypes say what went wrong; the message names the
 * message, table or setting involved.
 */
public class OutboxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutboxException(String message) {
        super(message);
    }

    public OutboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
