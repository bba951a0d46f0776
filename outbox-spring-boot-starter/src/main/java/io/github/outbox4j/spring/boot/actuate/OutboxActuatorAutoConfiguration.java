package io.github.outbox4j.spring.boot.actuate;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.spring.boot.OutboxAutoConfiguration;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The actuator facet: the {@code outbox} endpoint ({@link OutboxEndpoint}) when Spring Boot Actuator is on the class
 * path and the endpoint is available ({@code management.endpoints.web.exposure.include=outbox} to reach it over HTTP),
 * and the {@code outbox} health indicator ({@link OutboxHealthIndicator}) when Spring Boot's health support is, unless
 * {@code management.health.outbox.enabled=false}. Both read the storage of the outbox bean.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnBean(Outbox.class)
public final class OutboxActuatorAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    @ConditionalOnAvailableEndpoint(OutboxEndpoint.class)
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        OutboxEndpoint outboxEndpoint(ObjectProvider<Outbox> outbox, ObjectProvider<Clock> clock) {
            return new OutboxEndpoint(() -> outbox.getObject().storage(), clock.getIfUnique(Clock::systemUTC));
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("outbox")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "outboxHealthIndicator")
        OutboxHealthIndicator outboxHealthIndicator(ObjectProvider<Outbox> outbox, ObjectProvider<Clock> clock) {
            return new OutboxHealthIndicator(() -> outbox.getObject().storage(), clock.getIfUnique(Clock::systemUTC));
        }
    }
}
