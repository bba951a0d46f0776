package io.github.outbox4j.spi;

import java.util.Map;

/**
 * Carries a trace context across the broker: the publisher's current context is stored with the message as
 * headers (W3C {@code traceparent}, {@code tracestate}), sent with it, kept across retries, and made current
 * again around each attempt of the consumer's handler. The Spring Boot starter implements it with Micrometer
 * Tracing when that is on the class path. Implementations are thread-safe.
 */
public interface TraceContextPropagator {

    /** Carries nothing. */
    TraceContextPropagator NONE = new TraceContextPropagator() {
        @Override
        public Map<String, String> currentContext() {
            return Map.of();
        }

        @Override
        public Scope restore(Map<String, String> headers) {
            return () -> {};
        }
    };

    /** Headers describing the calling thread's current trace context; empty when there is none. */
    Map<String, String> currentContext();

    /**
     * Makes the trace context carried by {@code headers} current on the calling thread (typically as the parent
     * of a new span for the handler call) until the returned scope is closed.
     */
    Scope restore(Map<String, String> headers);

    /** Ends what {@link #restore} began; never throws. */
    @FunctionalInterface
    interface Scope extends AutoCloseable {
        /** Marks what this scope traces (the handler's span) as failed with {@code error}; called before close. */
        default void failed(Throwable error) {}

        @Override
        void close();
    }
}
