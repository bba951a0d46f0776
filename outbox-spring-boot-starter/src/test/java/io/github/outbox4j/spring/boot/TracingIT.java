package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import io.github.outbox4j.spring.boot.TestTracing.FinishedSpans;
import io.github.outbox4j.spring.boot.tracing.OutboxTracingAutoConfiguration;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Trace context through the outbox against a real PostgreSQL, with the in-memory transport and a real Micrometer
 * Tracer (OpenTelemetry bridge): a message published by a {@code @TransactionalPublish} method inside a span is
 * stored with its {@code traceparent}, and its {@code @Subscribe} handler runs in that trace, on its first attempt and
 * on the retry after it failed.
 */
class TracingIT {
    private static DataSource database;

    private TestTables tables;
    private ApplicationContextRunner runner;

    record OrderPaid(long orderId) {}

    @BeforeAll
    static void database() {
        database = TestServices.postgres();
    }

    @BeforeEach
    void setUp() {
        tables = TestTables.create(database);
        runner = new ApplicationContextRunner()
                .withConfiguration(StarterTestSupport.outboxAutoConfigurations())
                .withConfiguration(AutoConfigurations.of(
                        OutboxTracingAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class,
                        TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class,
                        JacksonAutoConfiguration.class,
                        AopAutoConfiguration.class))
                .withUserConfiguration(TestTracing.class)
                // not the pool itself: the context would close it, and the pool is shared by the JVM's tests
                .withBean(DataSource.class, () -> new DelegatingDataSource(database))
                .withBean(Payments.class)
                .withBean(FlakyHandler.class)
                .withPropertyValues(
                        "outbox.transport=in-memory",
                        "outbox.storage.published-table=" + tables.publishedTable(),
                        "outbox.storage.received-table=" + tables.receivedTable(),
                        "outbox.retry.immediate-backoff=10ms");
    }

    @AfterEach
    void tearDown() {
        tables.close();
    }

    @Test
    void theHandlerRunsInThePublishersTraceOnEveryAttempt() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            Tracer tracer = context.getBean(Tracer.class);
            Payments payments = context.getBean(Payments.class);
            FlakyHandler handler = context.getBean(FlakyHandler.class);

            Span request = tracer.nextSpan().name("http request").start();
            try (Tracer.SpanInScope ignored = tracer.withSpan(request)) {
                payments.pay(42);
            } finally {
                request.end();
            }
            String traceId = request.context().traceId();

            await().atMost(Duration.ofSeconds(20)).until(() -> handler.traceIds.size() == 2);
            assertThat(handler.traceIds)
                    .as("trace id seen by attempt 1 and by the retry")
                    .containsOnlyKeys(1, 2);
            assertThat(handler.traceIds.get(1)).isEqualTo(traceId);
            assertThat(handler.traceIds.get(2)).isEqualTo(traceId);
            assertThat(handler.spanIds.get(1))
                    .as("a span of the handler's own")
                    .isNotEqualTo(request.context().spanId());
            FinishedSpans spans = context.getBean(FinishedSpans.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> spans.named("outbox receive order.paid").size() == 2);
            assertThat(spans.named("outbox receive order.paid"))
                    .as("the failed attempt's span is an error, the retry's is not")
                    .extracting(span -> span.getStatus().getStatusCode())
                    .containsExactlyInAnyOrder(StatusCode.ERROR, StatusCode.UNSET);

            JdbcTemplate jdbc = new JdbcTemplate(database);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> jdbc.queryForObject(
                                    "SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'SUCCEEDED'",
                                    Long.class)
                            == 1);
            List<String> headers = jdbc.queryForList("SELECT headers FROM " + tables.publishedTable(), String.class);
            assertThat(headers)
                    .singleElement()
                    .satisfies(h ->
                            assertThat(h).contains(OutboxHeaders.TRACEPARENT).contains(traceId));
        });
    }

    @Test
    void withoutACurrentSpanNothingIsStoredAndTheHandlerStillRuns() {
        runner.run(context -> {
            FlakyHandler handler = context.getBean(FlakyHandler.class);
            context.getBean(Payments.class).pay(7);
            await().atMost(Duration.ofSeconds(20)).until(() -> handler.traceIds.size() == 2);
            assertThat(new JdbcTemplate(database)
                            .queryForList("SELECT headers FROM " + tables.publishedTable(), String.class))
                    .singleElement()
                    .satisfies(h -> assertThat(h).doesNotContain(OutboxHeaders.TRACEPARENT));
        });
    }

    static class Payments {
        @TransactionalPublish(topic = "order.paid")
        public OrderPaid pay(long orderId) {
            return new OrderPaid(orderId);
        }
    }

    /** Records the trace id current in each attempt, and fails the first one. */
    static class FlakyHandler {
        final Map<Integer, String> traceIds = new ConcurrentHashMap<>();
        final Map<Integer, String> spanIds = new ConcurrentHashMap<>();
        private final Tracer tracer;

        FlakyHandler(Tracer tracer) {
            this.tracer = tracer;
        }

        @Subscribe(topic = "order.paid", group = "billing")
        void handle(OrderPaid event, ReceivedMessage message) {
            Span span = tracer.currentSpan();
            traceIds.put(
                    message.attempt(), span == null ? "none" : span.context().traceId());
            spanIds.put(
                    message.attempt(), span == null ? "none" : span.context().spanId());
            if (message.attempt() == 1) {
                throw new IllegalStateException("billing hiccup");
            }
        }
    }
}
