package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.spring.boot.tracing.MicrometerTraceContextPropagator;
import io.github.outbox4j.spring.boot.tracing.OutboxTracingAutoConfiguration;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class OutboxTracingAutoConfigurationTest {
    private final ApplicationContextRunner runner =
            StarterTestSupport.runner().withConfiguration(AutoConfigurations.of(OutboxTracingAutoConfiguration.class));

    @Test
    void aTracerAndAPropagatorGiveTheMicrometerPropagator() {
        runner.withUserConfiguration(TestTracing.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(TraceContextPropagator.class);
            assertThat(context)
                    .getBean(TraceContextPropagator.class)
                    .isInstanceOf(MicrometerTraceContextPropagator.class);
        });
    }

    @Test
    void withoutTracingBeansThereIsNone() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(TraceContextPropagator.class);
        });
    }

    @Test
    void aTracerAloneIsNotEnough() {
        runner.withBean(Tracer.class, () -> Tracer.NOOP).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(TraceContextPropagator.class);
        });
    }

    @Test
    void aPropagatorAloneIsNotEnough() {
        runner.withBean(Propagator.class, () -> Propagator.NOOP).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(TraceContextPropagator.class);
        });
    }

    @Test
    void withoutMicrometerTracingOnTheClassPathThereIsNone() {
        runner.withUserConfiguration(TestTracing.class)
                .withClassLoader(new FilteredClassLoader(Tracer.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(TraceContextPropagator.class);
                });
    }

    @Test
    void theApplicationsOwnPropagatorWins() {
        runner.withUserConfiguration(TestTracing.class)
                .withBean("custom", TraceContextPropagator.class, () -> TraceContextPropagator.NONE)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).getBean(TraceContextPropagator.class).isSameAs(TraceContextPropagator.NONE);
                });
    }

    @Test
    void carriesTheContextToAChildSpanAndEndsIt() {
        runner.withUserConfiguration(TestTracing.class).run(context -> {
            Tracer tracer = context.getBean(Tracer.class);
            TraceContextPropagator propagator = context.getBean(TraceContextPropagator.class);
            assertThat(propagator.currentContext()).as("no current span").isEmpty();

            Span publishing = tracer.nextSpan().name("publish").start();
            Map<String, String> headers;
            try (Tracer.SpanInScope ignored = tracer.withSpan(publishing)) {
                headers = new HashMap<>(propagator.currentContext());
            } finally {
                publishing.end();
            }
            assertThat(headers).containsKey(OutboxHeaders.TRACEPARENT);
            assertThat(headers.get(OutboxHeaders.TRACEPARENT))
                    .contains(publishing.context().traceId());
            headers.put(OutboxHeaders.MESSAGE_NAME, "order.paid");

            try (TraceContextPropagator.Scope scope = propagator.restore(headers)) {
                Span handling = tracer.currentSpan();
                assertThat(handling).isNotNull();
                assertThat(handling.context().traceId())
                        .isEqualTo(publishing.context().traceId());
                assertThat(handling.context().parentId())
                        .isEqualTo(publishing.context().spanId());
                assertThat(handling.context().spanId())
                        .isNotEqualTo(publishing.context().spanId());
            }
            assertThat(tracer.currentSpan()).as("the scope is closed").isNull();
        });
    }
}
