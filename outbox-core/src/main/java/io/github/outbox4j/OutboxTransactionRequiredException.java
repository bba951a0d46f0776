package io.github.outbox4j;

/**
 * A message was published outside a transaction. The outbox row must be written in the same local
 * transaction as the business data; publishing without one would either send phantoms or lose messages.
 */
public class OutboxTransactionRequiredException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public OutboxTransactionRequiredException(String message) {
        super(message);
    }
}
