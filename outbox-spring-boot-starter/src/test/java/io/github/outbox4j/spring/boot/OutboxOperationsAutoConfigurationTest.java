package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxAlertListener;
import io.github.outbox4j.alert.LoggingAlertListener;
import io.github.outbox4j.alert.WebhookAlertListener;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spring.boot.actuate.OutboxEndpoint;
import io.github.outbox4j.spring.boot.actuate.OutboxHealthIndicator;
import io.github.outbox4j.spring.boot.alert.MailAlertListener;
import io.github.outbox4j.spring.boot.alert.OutboxExhaustedEvent;
import io.github.outbox4j.spring.boot.metrics.MicrometerOutboxObserver;
import io.github.outbox4j.spring.boot.metrics.OutboxBacklogMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Configuration;
import org.springframework.mail.MailSender;
import org.springframework.mail.SimpleMailMessage;

/** The operations facets: actuator endpoint, health, metrics, alerts. */
class OutboxOperationsAutoConfigurationTest {
    private final ApplicationContextRunner runner =
            StarterTestSupport.runner().withPropertyValues("management.endpoints.web.exposure.include=outbox,health");

    @Test
    void endpointAndHealthIndicatorWhenActuatorIsThere() {
        runner.run(context -> {
            assertThat(context).hasSingleBean(OutboxEndpoint.class);
            assertThat(context).hasSingleBean(OutboxHealthIndicator.class);
            assertThat(context).hasBean("outboxHealthIndicator");
        });
    }

    @Test
    void theEndpointIsThereOnlyWhenExposed() {
        StarterTestSupport.runner().run(context -> {
            assertThat(context).doesNotHaveBean(OutboxEndpoint.class);
            assertThat(context).hasSingleBean(OutboxHealthIndicator.class);
        });
    }

    @Test
    void noEndpointWithoutActuatorNoIndicatorWithoutHealth() {
        runner.withClassLoader(new FilteredClassLoader(Endpoint.class, HealthIndicator.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(OutboxEndpoint.class);
                    assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class);
                });
        runner.withPropertyValues("management.health.outbox.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class));
        runner.withPropertyValues("management.endpoint.outbox.access=NONE")
                .run(context -> assertThat(context).doesNotHaveBean(OutboxEndpoint.class));
    }

    @Test
    void endpointCountsBrowsesRequeuesAndDeletes() {
        runner.run(context -> {
            FakeOutboxStorage storage = (FakeOutboxStorage) context.getBean(OutboxStorage.class);
            storage.published.add(row("p1", null, "order.paid", MessageStatus.SUCCEEDED));
            storage.published.add(row("p2", null, "order.paid", MessageStatus.FAILED));
            storage.received.add(row("r1", "inventory", "order.paid", MessageStatus.FAILED));
            storage.received.add(row("r2", "inventory", "order.cancelled", MessageStatus.PENDING));
            OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);

            OutboxEndpoint.Summary summary = endpoint.summary();
            assertThat(summary.published())
                    .containsEntry(MessageStatus.SUCCEEDED, 1L)
                    .containsEntry(MessageStatus.FAILED, 1L)
                    .containsEntry(MessageStatus.PENDING, 0L);
            assertThat(summary.received())
                    .containsEntry(MessageStatus.FAILED, 1L)
                    .containsEntry(MessageStatus.PENDING, 1L);

            assertThat(endpoint.messages("received", MessageStatus.FAILED, null, null, null)
                            .messages())
                    .extracting(OutboxEndpoint.MessageDescriptor::id)
                    .containsExactly("r1");
            assertThat(endpoint.messages("received", null, "order.cancelled", 0, 10)
                            .messages())
                    .extracting(OutboxEndpoint.MessageDescriptor::id)
                    .containsExactly("r2");
            assertThat(endpoint.messages("PUBLISHED", null, null, 1, 1).messages())
                    .extracting(OutboxEndpoint.MessageDescriptor::id)
                    .containsExactly("p2");
            assertThat(endpoint.message("received", "r1", "inventory").status()).isEqualTo(MessageStatus.FAILED);
            assertThat(endpoint.message("published", "nope", null)).isNull();

            assertThat(endpoint.requeue("received", "r1", "inventory").done()).isTrue();
            assertThat(endpoint.message("received", "r1", "inventory").status()).isEqualTo(MessageStatus.RETRYING);
            assertThat(endpoint.requeue("received", "r1", "inventory").done())
                    .as("no longer FAILED")
                    .isFalse();
            assertThat(endpoint.delete("published", "p1", null).done()).isTrue();
            assertThat(storage.published).extracting(StoredMessage::id).containsExactly("p2");

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> endpoint.requeue("received", "r1", null))
                    .isInstanceOf(InvalidEndpointRequestException.class)
                    .hasMessageContaining("group");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> endpoint.messages("sent", null, null, 0, 5))
                    .isInstanceOf(InvalidEndpointRequestException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> endpoint.messages("published", null, null, 0, 0))
                    .isInstanceOf(InvalidEndpointRequestException.class);
        });
    }

    @Test
    void healthReportsBacklogAndGoesDownWhenTheStorageFails() {
        runner.run(context -> {
            FakeOutboxStorage storage = (FakeOutboxStorage) context.getBean(OutboxStorage.class);
            storage.published.add(row("p1", null, "order.paid", MessageStatus.FAILED));
            storage.published.add(row("p2", null, "order.paid", MessageStatus.RETRYING));
            OutboxHealthIndicator indicator = context.getBean(OutboxHealthIndicator.class);
            Health health = indicator.health(true);
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            @SuppressWarnings("unchecked")
            Map<String, Object> published =
                    (Map<String, Object>) health.getDetails().get("published");
            assertThat(published).containsEntry("pending", 1L).containsEntry("failed", 1L);
            assertThat((String) published.get("oldestPendingAge")).startsWith("PT");

            storage.failure = new IllegalStateException("database down");
            assertThat(indicator.health(true).getStatus()).isEqualTo(Status.DOWN);
        });
    }

    @Test
    void metricsWhenThereIsAMeterRegistry() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            assertThat(context).hasSingleBean(MicrometerOutboxObserver.class);
            assertThat(context).hasSingleBean(OutboxBacklogMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            context.getBean(OutboxBacklogMetrics.class).bindTo(registry);
            FakeOutboxStorage storage = (FakeOutboxStorage) context.getBean(OutboxStorage.class);
            storage.received.add(row("r1", "inventory", "order.paid", MessageStatus.PENDING));
            assertThat(registry.get("outbox.messages.pending")
                            .tag("kind", "received")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.get("outbox.messages.pending")
                            .tag("kind", "published")
                            .gauge()
                            .value())
                    .isEqualTo(0.0);
            assertThat(registry.get("outbox.messages.oldest.pending.age")
                            .tag("kind", "received")
                            .gauge()
                            .value())
                    .isGreaterThanOrEqualTo(0.0);
        });
        runner.run(context -> assertThat(context).doesNotHaveBean(MicrometerOutboxObserver.class));
    }

    @Test
    void theObserverCountsWithTopicGroupAndTransportTags() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerOutboxObserver observer = new MicrometerOutboxObserver(registry, () -> "kafka");
        observer.published("order.paid");
        observer.sent("order.paid", Duration.ofMillis(30));
        observer.sendFailed("order.paid", new RuntimeException());
        observer.received("order.paid", "inventory");
        observer.duplicate("order.paid", "inventory");
        observer.handled("order.paid", "inventory", Duration.ofMillis(5));
        observer.handlerFailed("order.paid", "inventory", new RuntimeException());
        observer.exhausted(MessageKind.RECEIVED, "order.paid", "inventory");
        for (String counter :
                List.of("outbox.messages.published", "outbox.messages.sent", "outbox.messages.send.failures")) {
            assertThat(registry.get(counter)
                            .tag("topic", "order.paid")
                            .tag("transport", "kafka")
                            .counter()
                            .count())
                    .as(counter)
                    .isEqualTo(1.0);
        }
        for (String counter : List.of(
                "outbox.messages.received",
                "outbox.messages.duplicates",
                "outbox.messages.handled",
                "outbox.messages.handler.failures",
                "outbox.messages.exhausted")) {
            assertThat(registry.get(counter).tag("group", "inventory").counter().count())
                    .as(counter)
                    .isEqualTo(1.0);
        }
        assertThat(registry.get("outbox.messages.delivery")
                        .timer()
                        .totalTime(java.util.concurrent.TimeUnit.MILLISECONDS))
                .isEqualTo(30.0);
        assertThat(registry.get("outbox.messages.exhausted")
                        .tag("kind", "received")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void alertsAreLoggedAndPublishedAsEvents() {
        runner.withUserConfiguration(EventCollector.class).run(context -> {
            assertThat(context).hasSingleBean(LoggingAlertListener.class);
            assertThat(context).doesNotHaveBean(WebhookAlertListener.class);
            assertThat(context).doesNotHaveBean(MailAlertListener.class);
            OutboxAlert alert = alert();
            context.getBeansOfType(OutboxAlertListener.class).values().forEach(l -> l.onExhausted(alert));
            assertThat(context.getBean(EventCollector.class).events)
                    .singleElement()
                    .extracting(OutboxExhaustedEvent::alert)
                    .isEqualTo(alert);
        });
    }

    @Test
    void webhookAndMailWhenConfigured() {
        runner.withPropertyValues(
                        "outbox.alert.webhook.url=http://127.0.0.1:9/hook",
                        "outbox.alert.webhook.format=text-message",
                        "outbox.alert.mail.to=ops@example.com,dev@example.com",
                        "outbox.alert.mail.from=outbox@example.com")
                .withBean(MailSender.class, () -> mock(MailSender.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(WebhookAlertListener.class);
                    assertThat(context).hasSingleBean(MailAlertListener.class);
                    context.getBean(MailAlertListener.class).onExhausted(alert());
                    org.mockito.ArgumentCaptor<SimpleMailMessage> sent =
                            org.mockito.ArgumentCaptor.forClass(SimpleMailMessage.class);
                    org.mockito.Mockito.verify(context.getBean(MailSender.class), org.mockito.Mockito.timeout(5000))
                            .send(sent.capture());
                    SimpleMailMessage mail = sent.getValue();
                    assertThat(mail.getTo()).containsExactly("ops@example.com", "dev@example.com");
                    assertThat(mail.getFrom()).isEqualTo("outbox@example.com");
                    assertThat(mail.getSubject()).contains("order.paid", "inventory");
                });
        runner.withPropertyValues("outbox.alert.mail.to=ops@example.com")
                .run(context -> assertThat(context).doesNotHaveBean(MailAlertListener.class));
        runner.withBean(MailSender.class, () -> mock(MailSender.class))
                .run(context -> assertThat(context).doesNotHaveBean(MailAlertListener.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class EventCollector implements ApplicationListener<OutboxExhaustedEvent> {
        final List<OutboxExhaustedEvent> events = new CopyOnWriteArrayList<>();

        @Override
        public void onApplicationEvent(OutboxExhaustedEvent event) {
            events.add(event);
        }
    }

    private static OutboxAlert alert() {
        return new OutboxAlert(
                MessageKind.RECEIVED, "order.paid", "inventory", 2, List.of("a", "b"), "boom", Instant.now());
    }

    private static StoredMessage row(String id, String group, String topic, MessageStatus status) {
        return new StoredMessage(
                id,
                group,
                topic,
                null,
                Map.of(),
                "{}",
                status,
                1,
                Instant.now(),
                status.isFinal() ? null : Instant.now(),
                null,
                null,
                1);
    }
}
