package io.github.outbox4j;

/**
 * A setting has a value Outbox4j cannot work with. Thrown when the configuration is built or the outbox
 * starts, never later; {@link #property()} names the setting with its {@code outbox.*} property key.
 */
public class OutboxConfigurationException extends OutboxException {
    private static final long serialVersionUID = 1L;

    private final String property;

    public OutboxConfigurationException(String property, String message) {
        super(property + ": " + message);
        this.property = property;
    }

    public OutboxConfigurationException(String property, String message, Throwable cause) {
        super(property + ": " + message, cause);
        this.property = property;
    }

    /** The property key of the offending setting, for example {@code outbox.retry.max-attempts}. */
    public String property() {
        return property;
    }
}
