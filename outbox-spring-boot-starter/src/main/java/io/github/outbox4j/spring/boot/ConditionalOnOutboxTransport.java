package io.github.outbox4j.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.context.annotation.Conditional;

/**
 * Matches when {@code outbox.transport} selects the given transport; when the property is unset, when the given
 * transport is the only one of Kafka and RabbitMQ on the class path ({@code in-memory} is never chosen by itself).
 * When both are on the class path and the property is unset, neither matches, and the outbox fails to start with a
 * message naming {@code outbox.transport}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Conditional(OnOutboxTransportCondition.class)
@interface ConditionalOnOutboxTransport {

    OutboxProperties.Transport value();
}
