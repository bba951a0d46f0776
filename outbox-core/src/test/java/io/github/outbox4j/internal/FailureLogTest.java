package io.github.outbox4j.internal;

import static io.github.outbox4j.MessageKind.PUBLISHED;
import static io.github.outbox4j.MessageKind.RECEIVED;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.LogCapture;
import io.github.outbox4j.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class FailureLogTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Instant NEXT = T0.plus(Duration.ofMinutes(4));
    private static final IllegalStateException BROKER_DOWN = new IllegalStateException("broker down");

    private final MutableClock clock = new MutableClock(T0);
    private final LogCapture logs = LogCapture.of(FailureLogTest.class);
    private final FailureLog failures = new FailureLog(LoggerFactory.getLogger(FailureLogTest.class), clock);

    @AfterEach
    void closeLogs() {
        logs.close();
    }

    @Test
    void aFailedSendIsLoggedAtWarnNamingTheMessageTheAttemptAndTheNextOneWithTheStackTrace() {
        failures.retrying(PUBLISHED, sent("m-1", "order.paid"), 3, 50, NEXT, BROKER_DOWN);

        assertThat(logs.events()).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage())
                    .isEqualTo("Sending message m-1 of topic 'order.paid' failed (attempt 3 of 50); next attempt at "
                            + NEXT + ": java.lang.IllegalStateException: broker down");
            assertThat(event.getThrowableProxy().getClassName()).isEqualTo(IllegalStateException.class.getName());
            assertThat(event.getThrowableProxy().getStackTraceElementProxyArray())
                    .isNotEmpty();
        });
    }

    @Test
    void aFailedHandlerIsLoggedNamingItsGroup() {
        failures.retrying(RECEIVED, received("m-1", "order.paid", "billing"), 1, 50, NEXT, BROKER_DOWN);
        failures.exhausted(RECEIVED, received("m-2", "order.paid", "billing"), 1, BROKER_DOWN);

        assertThat(logs.messages(Level.WARN))
                .containsExactly(
                        "Handling message m-1 of topic 'order.paid' for group 'billing' failed (attempt 1 of 50);"
                                + " next attempt at " + NEXT + ": java.lang.IllegalStateException: broker down",
                        "Handling message m-2 of topic 'order.paid' for group 'billing' FAILED after 1 attempt;"
                                + " it is kept for a manual requeue: java.lang.IllegalStateException: broker down");
    }

    @Test
    void failuresWithinAMinuteOfTheLastWarnAreLoggedAtDebugAndCountedIntoTheNextWarn() {
        for (int i = 1; i <= 5; i++) {
            failures.retrying(PUBLISHED, sent("m-" + i, "order.paid"), 3, 50, NEXT, BROKER_DOWN);
            clock.advance(Duration.ofSeconds(10));
        }
        assertThat(levels()).containsExactly(Level.WARN, Level.DEBUG, Level.DEBUG, Level.DEBUG, Level.DEBUG);

        clock.set(T0.plus(FailureLog.INTERVAL));
        failures.retrying(PUBLISHED, sent("m-6", "order.paid"), 3, 50, NEXT, BROKER_DOWN);
        failures.retrying(PUBLISHED, sent("m-7", "order.paid"), 3, 50, NEXT, BROKER_DOWN);

        assertThat(levels()).endsWith(Level.WARN, Level.DEBUG);
        assertThat(logs.messages(Level.WARN).get(1))
                .startsWith("Sending message m-6 of topic 'order.paid' failed")
                .endsWith("broker down [and 4 more failed attempts of this topic since " + T0 + ", logged at DEBUG]");
        assertThat(logs.events().get(5).getThrowableProxy()).isNotNull();
        assertThat(logs.messages(Level.DEBUG).get(0))
                .startsWith("Sending message m-2 of topic 'order.paid' failed (attempt 3 of 50)");
    }

    @Test
    void eachTopicEachGroupAndTheFailedMessagesHaveAMinuteOfTheirOwn() {
        failures.retrying(PUBLISHED, sent("m-1", "order.paid"), 3, 50, NEXT, BROKER_DOWN);
        failures.retrying(PUBLISHED, sent("m-2", "order.shipped"), 3, 50, NEXT, BROKER_DOWN);
        failures.retrying(RECEIVED, received("m-1", "order.paid", "billing"), 3, 50, NEXT, BROKER_DOWN);
        failures.retrying(RECEIVED, received("m-1", "order.paid", "points"), 3, 50, NEXT, BROKER_DOWN);
        failures.exhausted(PUBLISHED, sent("m-3", "order.paid"), 50, BROKER_DOWN);

        assertThat(levels()).containsOnly(Level.WARN).hasSize(5);
        assertThat(logs.messages(Level.WARN).get(4))
                .isEqualTo("Sending message m-3 of topic 'order.paid' FAILED after 50 attempts;"
                        + " it is kept for a manual requeue: java.lang.IllegalStateException: broker down");
    }

    @Test
    void countedFailedMessagesOfAGroupAreNamedSo() {
        failures.exhausted(RECEIVED, received("m-1", "order.paid", "billing"), 50, BROKER_DOWN);
        failures.exhausted(RECEIVED, received("m-2", "order.paid", "billing"), 50, BROKER_DOWN);
        clock.advance(Duration.ofMinutes(5));
        failures.exhausted(RECEIVED, received("m-3", "order.paid", "billing"), 50, BROKER_DOWN);

        assertThat(logs.messages(Level.WARN).get(1))
                .endsWith("[and 1 more FAILED message of this topic and group since " + T0 + ", logged at DEBUG]");
    }

    private List<Level> levels() {
        return logs.events().stream().map(ILoggingEvent::getLevel).toList();
    }

    private static StoredMessage sent(String id, String topic) {
        return StoredMessage.pending(id, null, topic, null, Map.of(), "{}", T0, NEXT);
    }

    private static StoredMessage received(String id, String topic, String group) {
        return StoredMessage.pending(id, group, topic, null, Map.of(), "{}", T0, T0);
    }
}
