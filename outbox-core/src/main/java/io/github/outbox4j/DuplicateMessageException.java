package io.github.outbox4j;

/** A message with the same id is already stored (detected by the database's unique-violation SQLState). */
public class DuplicateMessageException extends OutboxException {
    private static final long serialVersionUID = 1L;

    public DuplicateMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}
