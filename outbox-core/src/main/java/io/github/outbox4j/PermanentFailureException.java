package io.github.outbox4j;

/**
 * A failure no later attempt can heal: the message itself is what the broker, the storage or the outbox refuses
 * (it is larger than a limit, its topic is not a valid name). A transport completes a send with it, or a handler
 * throws it, to say so; the engine then marks the row {@code FAILED} at once, with this exception's message as the
 * reason, and raises an alert, instead of spending the retry policy's attempts on it. The row stays for a manual
 * requeue once the cause is removed (a raised broker limit, say).
 *
 * <p>Never retried, whatever {@link io.github.outbox4j.retry.RetryPolicy.Builder#retryOn} says.
 */
public class PermanentFailureException extends OutboxException {
    private static final long serialVersionUID = 1L;

    public PermanentFailureException(String message) {
        super(message);
    }

    public PermanentFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
