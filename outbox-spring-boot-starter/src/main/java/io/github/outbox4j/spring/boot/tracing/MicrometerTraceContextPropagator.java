package io.github.outbox4j.spring.boot.tracing;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries Micrometer Tracing's context from the publisher to the handler: at publish, the current span's context is
 * written into the message's headers with the application's {@link Propagator} (W3C {@code traceparent}, and {@code
 * tracestate} and baggage when the propagator writes them); around each handler attempt, that context is read back
 * and a consumer span {@code outbox receive <topic>}, its child, is started and made current, then ended when the
 * attempt is over, marked as an error when the handler threw. Every attempt, retries included, thus belongs to the
 * publisher's trace.
 */
public final class MicrometerTraceContextPropagator implements TraceContextPropagator {
    private static final Logger log = LoggerFactory.getLogger(MicrometerTraceContextPropagator.class);

    private final Tracer tracer;
    private final Propagator propagator;

    public MicrometerTraceContextPropagator(Tracer tracer, Propagator propagator) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.propagator = Objects.requireNonNull(propagator, "propagator");
    }

    @Override
    public Map<String, String> currentContext() {
        TraceContext context = tracer.currentTraceContext().context();
        if (context == null) {
            return Map.of();
        }
        Map<String, String> headers = new LinkedHashMap<>();
        propagator.inject(context, headers, Map::put);
        return headers;
    }

    @Override
    public Scope restore(Map<String, String> headers) {
        String topic = headers.get(OutboxHeaders.MESSAGE_NAME);
        Span.Builder builder = propagator
                .extract(headers, Map::get)
                .name("outbox receive " + (topic != null ? topic : ""))
                .kind(Span.Kind.CONSUMER);
        if (topic != null) {
            builder.tag("messaging.destination.name", topic);
        }
        Span span = builder.start();
        Tracer.SpanInScope inScope = tracer.withSpan(span);
        return new Scope() {
            @Override
            public void failed(Throwable error) {
                try {
                    span.error(error);
                } catch (RuntimeException e) {
                    log.debug("Marking span {} as failed failed", span, e);
                }
            }

            @Override
            public void close() {
                try {
                    inScope.close();
                } catch (RuntimeException e) {
                    log.debug("Closing the scope of span {} failed", span, e);
                } finally {
                    try {
                        span.end();
                    } catch (RuntimeException e) {
                        log.debug("Ending span {} failed", span, e);
                    }
                }
            }
        };
    }
}
