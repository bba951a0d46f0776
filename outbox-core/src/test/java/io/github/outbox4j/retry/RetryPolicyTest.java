package io.github.outbox4j.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.PayloadTooLargeException;
import io.github.outbox4j.PermanentFailureException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RetryPolicyTest {

    @Test
    void defaultsAreThoseOfTheDesign() {
        RetryPolicy policy = RetryPolicy.defaults();

        assertThat(policy.immediateAttempts()).isEqualTo(3);
        assertThat(policy.firstDelay()).isEqualTo(Duration.ofMinutes(4));
        assertThat(policy.interval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(policy.maxAttempts()).isEqualTo(50);
        assertThat(policy.multiplier()).isEqualTo(1.0);
        assertThat(policy.jitter()).isZero();
        assertThat(RetryPolicy.builder().build().toString()).isEqualTo(policy.toString());
    }

    @Test
    void waitsTheFirstDelayAfterEachImmediateAttemptThenTheInterval() {
        RetryPolicy policy = RetryPolicy.defaults();

        for (int attempts = 1; attempts <= 3; attempts++) {
            assertThat(policy.delayAfter(attempts))
                    .as("after %d attempts", attempts)
                    .isEqualTo(Duration.ofMinutes(4));
        }
        for (int attempts = 4; attempts <= 49; attempts++) {
            assertThat(policy.delayAfter(attempts))
                    .as("after %d attempts", attempts)
                    .isEqualTo(Duration.ofMinutes(1));
        }
    }

    @Test
    void defaultTimelineMakesFiftyAttemptsEndingAtFiftyMinutes() {
        List<Duration> timeline = timeline(RetryPolicy.defaults());

        List<Duration> expected = new ArrayList<>(List.of(Duration.ZERO, Duration.ZERO, Duration.ZERO));
        IntStream.rangeClosed(4, 50).forEach(attempt -> expected.add(Duration.ofMinutes(attempt)));
        assertThat(timeline).containsExactlyElementsOf(expected);
        assertThat(RetryPolicy.defaults().isExhausted(49)).isFalse();
        assertThat(RetryPolicy.defaults().isExhausted(50)).isTrue();
    }

    @Test
    void multiplierGrowsTheIntervalUpToTheMaximum() {
        RetryPolicy policy = RetryPolicy.builder()
                .interval(Duration.ofMinutes(1))
                .multiplier(2.0)
                .maxInterval(Duration.ofMinutes(10))
                .build();

        assertThat(policy.delayAfter(3)).isEqualTo(Duration.ofMinutes(4));
        assertThat(policy.delayAfter(4)).isEqualTo(Duration.ofMinutes(1));
        assertThat(policy.delayAfter(5)).isEqualTo(Duration.ofMinutes(2));
        assertThat(policy.delayAfter(6)).isEqualTo(Duration.ofMinutes(4));
        assertThat(policy.delayAfter(7)).isEqualTo(Duration.ofMinutes(8));
        assertThat(policy.delayAfter(8)).isEqualTo(Duration.ofMinutes(10));
        assertThat(policy.delayAfter(49)).isEqualTo(Duration.ofMinutes(10));
        // the power overflows to infinity long before this: the cap must still hold
        assertThat(policy.delayAfter(100_000)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void maxIntervalBelowTheIntervalNeverShortensIt() {
        RetryPolicy policy = RetryPolicy.builder()
                .interval(Duration.ofMinutes(5))
                .maxInterval(Duration.ofMinutes(1))
                .multiplier(3.0)
                .build();

        assertThat(policy.delayAfter(4)).isEqualTo(Duration.ofMinutes(5));
        assertThat(policy.delayAfter(10)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void jitterSpreadsDelaysWithinItsBounds() {
        RetryPolicy policy = RetryPolicy.builder().jitter(0.25).build();
        Set<Duration> seen = new HashSet<>();

        for (int i = 0; i < 2_000; i++) {
            Duration first = policy.delayAfter(1);
            Duration later = policy.delayAfter(10);
            assertThat(first).isBetween(Duration.ofSeconds(180), Duration.ofSeconds(300));
            assertThat(later).isBetween(Duration.ofSeconds(45), Duration.ofSeconds(75));
            seen.add(first);
        }
        assertThat(seen).as("jitter varies the delay").hasSizeGreaterThan(100);
    }

    @Test
    void jitterLeavesAZeroDelayZero() {
        RetryPolicy policy =
                RetryPolicy.builder().firstDelay(Duration.ZERO).jitter(0.5).build();

        assertThat(policy.delayAfter(1)).isZero();
    }

    @Test
    void immediateAttemptsAreCappedByMaxAttempts() {
        RetryPolicy policy =
                RetryPolicy.builder().immediateAttempts(5).maxAttempts(2).build();

        assertThat(policy.immediateAttempts()).isEqualTo(2);
        assertThat(timeline(policy)).containsExactly(Duration.ZERO, Duration.ZERO);
    }

    @Test
    void theOrderOfBuilderCallsDoesNotMatterForTheCap() {
        RetryPolicy policy =
                RetryPolicy.builder().maxAttempts(2).immediateAttempts(5).build();

        assertThat(policy.immediateAttempts()).isEqualTo(2);
    }

    static Stream<Arguments> invalidSettings() {
        return Stream.of(
                invalid("outbox.retry.max-attempts", builder -> builder.maxAttempts(0)),
                invalid("outbox.retry.max-attempts", builder -> builder.maxAttempts(-1)),
                invalid("outbox.retry.immediate-attempts", builder -> builder.immediateAttempts(0)),
                invalid("outbox.retry.immediate-backoff", builder -> builder.immediateBackoff(Duration.ofMillis(-1))),
                invalid("outbox.retry.immediate-backoff", builder -> builder.immediateBackoff(null)),
                invalid("outbox.retry.first-delay", builder -> builder.firstDelay(Duration.ofSeconds(-1))),
                invalid("outbox.retry.first-delay", builder -> builder.firstDelay(null)),
                invalid("outbox.retry.interval", builder -> builder.interval(Duration.ofMillis(-1))),
                invalid("outbox.retry.interval", builder -> builder.interval(null)),
                invalid("outbox.retry.max-interval", builder -> builder.maxInterval(Duration.ofMinutes(-1))),
                invalid("outbox.retry.max-interval", builder -> builder.maxInterval(null)),
                invalid("outbox.retry.multiplier", builder -> builder.multiplier(0.99)),
                invalid("outbox.retry.multiplier", builder -> builder.multiplier(Double.NaN)),
                invalid("outbox.retry.multiplier", builder -> builder.multiplier(Double.POSITIVE_INFINITY)),
                invalid("outbox.retry.jitter", builder -> builder.jitter(1.0)),
                invalid("outbox.retry.jitter", builder -> builder.jitter(-0.01)),
                invalid("outbox.retry.jitter", builder -> builder.jitter(Double.NaN)));
    }

    private static Arguments invalid(String property, Consumer<RetryPolicy.Builder> setting) {
        return Arguments.of(property, setting);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSettings")
    void invalidValueNamesItsProperty(String property, Consumer<RetryPolicy.Builder> setting) {
        RetryPolicy.Builder builder = RetryPolicy.builder();

        assertThatThrownBy(() -> setting.accept(builder))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo(property))
                .hasMessageStartingWith(property + ": ");
    }

    @Test
    void boundaryValuesAreAccepted() {
        RetryPolicy policy = RetryPolicy.builder()
                .maxAttempts(1)
                .immediateAttempts(1)
                .immediateBackoff(Duration.ZERO)
                .firstDelay(Duration.ZERO)
                .interval(Duration.ZERO)
                .multiplier(1.0)
                .jitter(0.0)
                .build();

        assertThat(policy.maxAttempts()).isEqualTo(1);
        assertThat(policy.isExhausted(1)).isTrue();
    }

    @Test
    void serializationFailuresAreNotRetryableByDefault() {
        RetryPolicy policy = RetryPolicy.defaults();

        assertThat(policy.isRetryable(new OutboxSerializationException("bad payload", null)))
                .isFalse();
        assertThat(policy.isRetryable(new OutboxSerializationException("bad payload", null) {}))
                .as("a subclass")
                .isFalse();
        assertThat(policy.isRetryable(new IllegalStateException("broker down"))).isTrue();
        assertThat(policy.isRetryable(new TimeoutException())).isTrue();
        assertThat(policy.isRetryable(new OutboxException("database down"))).isTrue();
    }

    @Test
    void retryOnReplacesTheClassification() {
        RetryPolicy policy = RetryPolicy.builder()
                .retryOn(error -> !(error instanceof IllegalArgumentException))
                .build();

        assertThat(policy.isRetryable(new IllegalArgumentException())).isFalse();
        assertThat(policy.isRetryable(new OutboxSerializationException("x", null)))
                .isTrue();
        assertThat(RetryPolicy.builder().retryOn(error -> true).build().isRetryable(new PermanentFailureException("x")))
                .as("a permanent failure, whatever the predicate")
                .isFalse();
        assertThat(policy.isRetryable(new PayloadTooLargeException("t", 2, 1))).isFalse();
        assertThatThrownBy(() -> RetryPolicy.builder().retryOn(null)).isInstanceOf(NullPointerException.class);
    }

    /**
     * When each attempt happens, counted from the first, if every attempt fails: the immediate attempts follow
     * each other at once (their short backoff is left out), every later one waits {@link
     * RetryPolicy#delayAfter(int)}.
     */
    private static List<Duration> timeline(RetryPolicy policy) {
        List<Duration> times = new ArrayList<>();
        Duration now = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            times.add(now);
            if (policy.isExhausted(attempt)) {
                return times;
            }
            if (attempt >= policy.immediateAttempts()) {
                now = now.plus(policy.delayAfter(attempt));
            }
        }
    }
}
