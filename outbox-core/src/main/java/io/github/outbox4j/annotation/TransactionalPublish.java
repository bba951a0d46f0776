package io.github.outbox4j.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the method in a transaction and publishes its non-null return value to {@link #topic()} in that same
 * transaction: the message is written to the outbox table with the method's own writes and sent once the
 * transaction commits; if the method throws (any exception, checked or not), everything rolls back and nothing
 * is sent.
 *
 * <pre>{@code
 * @TransactionalPublish(topic = "order.paid", key = "#result.orderId()")
 * public OrderPaid pay(long orderId) {
 *     jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", orderId);
 *     return new OrderPaid(orderId, amount);
 * }
 * }</pre>
 *
 * <p>The method joins the caller's transaction when there is one ({@code PROPAGATION_REQUIRED}), else a new one is
 * started with the application's transaction manager. It works on beans proxied by Spring (the annotation may sit on
 * the class's method or on the interface method it implements); like {@code @Transactional}, a call from within the
 * same object bypasses the proxy. Handled by the Spring Boot starter ({@code outbox-spring-boot-starter}).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface TransactionalPublish {

    /** The topic the return value is published to. {@code ${...}} placeholders are resolved. */
    String topic();

    /**
     * The message key (ordering and partition key): a SpEL expression evaluated on the return value, available as
     * {@code #result} (and as the root object), with the method's arguments as {@code #name}, {@code #p0},
     * {@code #a0}. Empty (the default): no key. A {@code null} result of the expression: no key.
     */
    String key() default "";
}
