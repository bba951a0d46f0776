package io.github.outbox4j.spring.boot;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.propagation.Propagator;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A real Micrometer Tracer over the OpenTelemetry SDK (keeping ended spans in memory) and a W3C propagator, as Boot
 * makes them.
 */
@Configuration(proxyBeanMethods = false)
class TestTracing {
    private final FinishedSpans finishedSpans = new FinishedSpans();
    private final SdkTracerProvider provider =
            SdkTracerProvider.builder().addSpanProcessor(finishedSpans).build();
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

    @Bean
    FinishedSpans finishedSpans() {
        return finishedSpans;
    }

    /** Keeps every span that ended, for the tests to read. */
    static final class FinishedSpans implements SpanProcessor {
        private final List<SpanData> spans = new CopyOnWriteArrayList<>();

        List<SpanData> named(String name) {
            return spans.stream().filter(span -> span.getName().equals(name)).toList();
        }

        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {}

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
            spans.add(span.toSpanData());
        }

        @Override
        public boolean isEndRequired() {
            return true;
        }
    }
}
