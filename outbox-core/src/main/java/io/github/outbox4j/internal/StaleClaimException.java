package io.github.outbox4j.internal;

import io.github.outbox4j.OutboxException;

/**
 * The row changed hands while this worker was on it: its lease ended and another worker claimed it, so this
 * worker's result must not be recorded. Thrown inside a handler's transaction, it rolls that back.
 */
public final class StaleClaimException extends OutboxException {
    private static final long serialVersionUID = 1L;

    public StaleClaimException(String message) {
        super(message);
    }
}
