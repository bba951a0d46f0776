package io.github.outbox4j.spring.boot;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.propagation.Propagator;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** A real Micrometer Tracer over the OpenTelemetry SDK (exporting nowhere) and a W3C propagator, as Boot makes them. */
@Configuration(proxyBeanMethods = false)
class TestTracing {
    private final SdkTracerProvider provider = SdkTracerProvider.builder().build();
    private final io.opentelemetry.api.trace.Tracer otelTracer = provider.get("outbox-test");
    private final ContextPropagators propagators = ContextPropagators.create(
            TextMapPropagator.composite(W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()));

    @Bean
    Tracer tracer() {
        OtelCurrentTraceContext current = new OtelCurrentTraceContext();
        return new OtelTracer(otelTracer, current, event -> {}, new OtelBaggageManager(current, List.of(), List.of()));
    }

    @Bean
    Propagator propagator() {
        return new OtelPropagator(propagators, otelTracer);
    }

    @Bean(destroyMethod = "close")
    SdkTracerProvider sdkTracerProvider() {
        return provider;
    }
}
