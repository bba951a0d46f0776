package io.github.outbox4j.spring.boot.tracing;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Trace context propagation through the outbox with Micrometer Tracing: a {@link MicrometerTraceContextPropagator},
 * which the outbox picks up, when the class path has Micrometer Tracing and the context has a {@link Tracer} and a
 * {@link Propagator} (Spring Boot's OpenTelemetry or Brave tracing auto-configuration defines both). Backs off when the
 * application defines its own {@link TraceContextPropagator}.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.OpenTelemetryTracingAutoConfiguration",
            "org.springframework.boot.micrometer.tracing.brave.autoconfigure.BraveAutoConfiguration"
        })
@ConditionalOnClass({Outbox.class, Tracer.class, Propagator.class})
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
public final class OutboxTracingAutoConfiguration {

    @Bean
    @ConditionalOnBean({Tracer.class, Propagator.class})
    @ConditionalOnMissingBean(TraceContextPropagator.class)
    MicrometerTraceContextPropagator outboxTraceContextPropagator(Tracer tracer, Propagator propagator) {
        return new MicrometerTraceContextPropagator(tracer, propagator);
    }
}
