package io.github.outbox4j.spring.boot.metrics;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spring.boot.OutboxAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The metrics facet: when Micrometer and a {@link MeterRegistry} bean are there, message counters and timers through
 * {@link MicrometerOutboxObserver} (handed to the outbox like every {@code OutboxObserver} bean) and backlog gauges
 * through {@link OutboxBacklogMetrics}.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
        })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({Outbox.class, MeterRegistry.class})
public final class OutboxMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    MicrometerOutboxObserver outboxMicrometerObserver(
            MeterRegistry registry, ObjectProvider<OutboxTransport> transport) {
        return new MicrometerOutboxObserver(registry, () -> {
            OutboxTransport unique = transport.getIfUnique();
            return unique == null ? null : unique.name();
        });
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxBacklogMetrics outboxBacklogMetrics(ObjectProvider<Outbox> outbox, ObjectProvider<Clock> clock) {
        return new OutboxBacklogMetrics(() -> outbox.getObject().storage(), clock.getIfUnique(Clock::systemUTC));
    }
}
