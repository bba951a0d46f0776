package io.github.outbox4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OutboxSettingsTest {

    @Test
    void defaultsAreThePublicConstants() {
        OutboxSettings settings = OutboxSettings.defaults();

        assertThat(settings.dispatcherThreads()).isEqualTo(OutboxSettings.DEFAULT_DISPATCHER_THREADS);
        assertThat(settings.dispatcherQueueCapacity()).isEqualTo(OutboxSettings.DEFAULT_DISPATCHER_QUEUE_CAPACITY);
        assertThat(settings.dispatcherBatchSize()).isEqualTo(OutboxSettings.DEFAULT_DISPATCHER_BATCH_SIZE);
        assertThat(settings.pollInterval()).isEqualTo(OutboxSettings.DEFAULT_POLL_INTERVAL);
        assertThat(settings.claimBatchSize()).isEqualTo(OutboxSettings.DEFAULT_CLAIM_BATCH_SIZE);
        assertThat(settings.lease()).isEqualTo(OutboxSettings.DEFAULT_LEASE);
        assertThat(settings.attemptTimeout()).isEqualTo(OutboxSettings.DEFAULT_ATTEMPT_TIMEOUT);
        assertThat(settings.succeededRetention()).isEqualTo(Duration.ofHours(24));
        assertThat(settings.failedRetention()).isEqualTo(Duration.ofDays(15));
        assertThat(settings.cleanupInterval()).isEqualTo(OutboxSettings.DEFAULT_CLEANUP_INTERVAL);
        assertThat(settings.cleanupBatchSize()).isEqualTo(OutboxSettings.DEFAULT_CLEANUP_BATCH_SIZE);
        assertThat(settings.alertWindow()).isEqualTo(OutboxSettings.DEFAULT_ALERT_WINDOW);
        assertThat(settings.shutdownTimeout()).isEqualTo(OutboxSettings.DEFAULT_SHUTDOWN_TIMEOUT);
        assertThat(settings.maxPayloadSize()).isEqualTo(1024 * 1024);
    }

    @Test
    void setValuesAreKept() {
        OutboxSettings settings = OutboxSettings.builder()
                .dispatcherThreads(4)
                .dispatcherQueueCapacity(50)
                .dispatcherBatchSize(5)
                .pollInterval(Duration.ofMillis(250))
                .claimBatchSize(20)
                .retryThreads(3)
                .lease(Duration.ofSeconds(90))
                .attemptTimeout(Duration.ofSeconds(10))
                .succeededRetention(Duration.ZERO)
                .failedRetention(Duration.ofDays(30))
                .cleanupInterval(Duration.ofMinutes(1))
                .cleanupBatchSize(10)
                .alertWindow(Duration.ZERO)
                .shutdownTimeout(Duration.ZERO)
                .maxPayloadSize(10)
                .build();

        assertThat(settings.dispatcherThreads()).isEqualTo(4);
        assertThat(settings.dispatcherQueueCapacity()).isEqualTo(50);
        assertThat(settings.dispatcherBatchSize()).isEqualTo(5);
        assertThat(settings.pollInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(settings.claimBatchSize()).isEqualTo(20);
        assertThat(settings.retryThreads()).isEqualTo(3);
        assertThat(settings.lease()).isEqualTo(Duration.ofSeconds(90));
        assertThat(settings.attemptTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.succeededRetention()).isZero();
        assertThat(settings.failedRetention()).isEqualTo(Duration.ofDays(30));
        assertThat(settings.cleanupInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(settings.cleanupBatchSize()).isEqualTo(10);
        assertThat(settings.alertWindow()).isZero();
        assertThat(settings.shutdownTimeout()).isZero();
        assertThat(settings.maxPayloadSize()).isEqualTo(10);
    }

    static Stream<Arguments> invalidSettings() {
        return Stream.of(
                invalid("outbox.dispatcher.threads", builder -> builder.dispatcherThreads(0)),
                invalid("outbox.dispatcher.queue-capacity", builder -> builder.dispatcherQueueCapacity(-1)),
                invalid("outbox.dispatcher.batch-size", builder -> builder.dispatcherBatchSize(0)),
                invalid("outbox.retry.poll-interval", builder -> builder.pollInterval(Duration.ZERO)),
                invalid("outbox.retry.poll-interval", builder -> builder.pollInterval(null)),
                invalid("outbox.retry.batch-size", builder -> builder.claimBatchSize(0)),
                invalid("outbox.retry.threads", builder -> builder.retryThreads(0)),
                invalid("outbox.retry.lease", builder -> builder.lease(Duration.ofSeconds(-1))),
                invalid("outbox.retry.attempt-timeout", builder -> builder.attemptTimeout(Duration.ZERO)),
                invalid(
                        "outbox.cleanup.succeeded-retention",
                        builder -> builder.succeededRetention(Duration.ofHours(-1))),
                invalid("outbox.cleanup.failed-retention", builder -> builder.failedRetention(null)),
                invalid("outbox.cleanup.interval", builder -> builder.cleanupInterval(Duration.ofMillis(-5))),
                invalid("outbox.cleanup.batch-size", builder -> builder.cleanupBatchSize(0)),
                invalid("outbox.alert.window", builder -> builder.alertWindow(Duration.ofMinutes(-1))),
                invalid("outbox.shutdown-timeout", builder -> builder.shutdownTimeout(null)),
                invalid("outbox.publish.max-payload-size", builder -> builder.maxPayloadSize(0)));
    }

    private static Arguments invalid(String property, Consumer<OutboxSettings.Builder> setting) {
        return Arguments.of(property, setting);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSettings")
    void invalidValueNamesItsProperty(String property, Consumer<OutboxSettings.Builder> setting) {
        OutboxSettings.Builder builder = OutboxSettings.builder();

        assertThatThrownBy(() -> setting.accept(builder))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo(property))
                .hasMessageStartingWith(property + ": ");
    }

    @Test
    void leaseMustExceedTheAttemptTimeout() {
        OutboxSettings.Builder equal =
                OutboxSettings.builder().lease(Duration.ofSeconds(30)).attemptTimeout(Duration.ofSeconds(30));
        OutboxSettings.Builder shorter =
                OutboxSettings.builder().attemptTimeout(Duration.ofMinutes(5)); // the default lease is 2 min

        for (OutboxSettings.Builder builder : new OutboxSettings.Builder[] {equal, shorter}) {
            assertThatThrownBy(builder::build)
                    .isInstanceOfSatisfying(
                            OutboxConfigurationException.class,
                            e -> assertThat(e.property()).isEqualTo("outbox.retry.lease"))
                    .hasMessageContaining("outbox.retry.attempt-timeout");
        }
        assertThat(OutboxSettings.builder()
                        .lease(Duration.ofSeconds(31))
                        .attemptTimeout(Duration.ofSeconds(30))
                        .build()
                        .lease())
                .isEqualTo(Duration.ofSeconds(31));
    }
}
