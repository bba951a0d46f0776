package io.github.outbox4j.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a bean method the handler of a topic for a consumer group. Its first parameter is the payload, read from the
 * message's JSON as the parameter's declared (possibly generic) type; records work. An optional second parameter of
 * type {@link io.github.outbox4j.ReceivedMessage} gives the message's id, headers, key and attempt number.
 *
 * <pre>{@code
 * @Subscribe(topic = "order.paid", group = "inventory")
 * void deductStock(OrderPaid event, ReceivedMessage message) {
 *     jdbc.update("UPDATE stock SET quantity = quantity - ? WHERE sku = ?", event.quantity(), event.sku());
 * }
 * }</pre>
 *
 * <p>The method runs inside the inbox transaction: whatever it writes through the application's {@code DataSource}
 * commits together with the inbox row, so its effects apply once per message and group however often the message
 * arrives. Throwing fails the attempt: the transaction rolls back and the retry policy ({@code outbox.retry.*})
 * tries again. A non-null return value is published to the message's callback topic, if it named one.
 *
 * <p>Any other signature fails the application's startup with a message naming the method. Handled by the Spring
 * Boot starter ({@code outbox-spring-boot-starter}), which subscribes every such method before the outbox starts.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Subscribe {

    /** The topic (Kafka topic, RabbitMQ routing key). {@code ${...}} placeholders are resolved. */
    String topic();

    /**
     * The consumer group (Kafka {@code group.id}, RabbitMQ queue): each group receives every message once. Empty (the
     * default): {@code outbox.consumer.default-group}, else {@code spring.application.name}. {@code ${...}}
     * placeholders are resolved.
     */
    String group() default "";

    /**
     * How many consumers the transport runs for the group (the highest value among the group's methods counts), as a
     * number or a {@code ${...}} placeholder. Default {@code 1}.
     */
    String concurrency() default "1";
}
