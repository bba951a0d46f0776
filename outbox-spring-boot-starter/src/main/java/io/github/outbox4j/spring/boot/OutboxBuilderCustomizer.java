package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;

/**
 * Changes the {@link Outbox.Builder} after the starter has configured it from the properties and beans, just before
 * the outbox is built: e.g. a {@code RetryPolicy} with a custom {@code retryOn} predicate, or a listener that must not
 * be a bean. Applied in {@link org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface OutboxBuilderCustomizer {

    void customize(Outbox.Builder builder);
}
