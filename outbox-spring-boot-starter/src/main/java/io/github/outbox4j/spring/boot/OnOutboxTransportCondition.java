package io.github.outbox4j.spring.boot;

import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionMessage;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ClassUtils;

/** The condition of {@link ConditionalOnOutboxTransport}. */
final class OnOutboxTransportCondition extends SpringBootCondition {
    static final String PROPERTY = "outbox.transport";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        Map<String, Object> attributes = metadata.getAnnotationAttributes(ConditionalOnOutboxTransport.class.getName());
        OutboxProperties.Transport wanted = (OutboxProperties.Transport) attributes.get("value");
        ConditionMessage.Builder message = ConditionMessage.forCondition(ConditionalOnOutboxTransport.class, wanted);
        OutboxProperties.Transport configured = Binder.get(context.getEnvironment())
                .bind(PROPERTY, OutboxProperties.Transport.class)
                .orElse(null);
        if (configured != null) {
            return configured == wanted
                    ? ConditionOutcome.match(message.because(PROPERTY + " is " + configured))
                    : ConditionOutcome.noMatch(message.because(PROPERTY + " is " + configured));
        }
        if (wanted == OutboxProperties.Transport.IN_MEMORY) {
            return ConditionOutcome.noMatch(message.because(PROPERTY + " is not set"));
        }
        String other = wanted == OutboxProperties.Transport.KAFKA
                ? OutboxAutoConfiguration.RABBITMQ_TRANSPORT_CLASS
                : OutboxAutoConfiguration.KAFKA_TRANSPORT_CLASS;
        if (ClassUtils.isPresent(other, context.getClassLoader())) {
            return ConditionOutcome.noMatch(
                    message.because(PROPERTY + " is not set and " + other + " is on the class path too"));
        }
        return ConditionOutcome.match(
                message.because(PROPERTY + " is not set and " + other + " is not on the class path"));
    }
}
