package io.github.outbox4j;

/**
 * Told when messages become {@code FAILED}: their attempts are exhausted, or their failure cannot heal.
 * Each exhausted message is counted in exactly one alert, on the instance that recorded the failure.
 * Called from an engine thread: implementations should return quickly and must be thread-safe; an
 * exception they throw is logged and does not affect the other listeners.
 */
@FunctionalInterface
public interface OutboxAlertListener {

    void onExhausted(OutboxAlert alert);
}
