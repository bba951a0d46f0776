package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.LogCapture;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AlertDispatcherTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration WINDOW = Duration.ofMinutes(5);

    private final MutableClock clock = new MutableClock(T0);
    private final RecordingAlertListener listener = new RecordingAlertListener();
    private final AlertDispatcher alerts = new AlertDispatcher(List.of(listener), WINDOW, clock);

    @Test
    void firstExhaustedMessageAlertsAtOnce() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "broker down");

        assertThat(listener.alerts()).singleElement().satisfies(alert -> {
            assertThat(alert.kind()).isEqualTo(MessageKind.PUBLISHED);
            assertThat(alert.topic()).isEqualTo("order.paid");
            assertThat(alert.group()).isNull();
            assertThat(alert.count()).isOne();
            assertThat(alert.messageIds()).containsExactly("m-1");
            assertThat(alert.lastError()).isEqualTo("broker down");
            assertThat(alert.raisedAt()).isEqualTo(T0);
            assertThat(alert.summary())
                    .isEqualTo("1 message of topic 'order.paid' could not be sent and is FAILED (id [m-1]);"
                            + " last error: broker down");
        });
    }

    @Test
    void furtherMessagesInTheWindowAreCountedAndRaisedTogetherWhenItEnds() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-0", "order.paid", null), "broker down");
        for (int i = 1; i <= 14; i++) {
            clock.advance(Duration.ofSeconds(10));
            alerts.exhausted(MessageKind.PUBLISHED, failed("m-" + i, "order.paid", null), "error " + i);
        }
        assertThat(listener.alerts()).hasSize(1);

        clock.set(T0.plus(WINDOW).minusMillis(1));
        alerts.flush();
        assertThat(listener.alerts()).as("the window is still open").hasSize(1);

        clock.set(T0.plus(WINDOW));
        alerts.flush();

        assertThat(listener.alerts()).hasSize(2);
        OutboxAlert summary = listener.alerts().get(1);
        assertThat(summary.count()).isEqualTo(14);
        assertThat(summary.messageIds())
                .hasSize(OutboxAlert.MAX_SAMPLE_IDS)
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, 10).mapToObj(i -> "m-" + i).toList());
        assertThat(summary.lastError()).isEqualTo("error 14");
        assertThat(summary.raisedAt()).isEqualTo(T0.plus(WINDOW));
        assertThat(summary.summary())
                .contains("14 messages")
                .contains("and are FAILED (ids [")
                .contains(", ...");
    }

    @Test
    void flushRaisesNothingWhenTheWindowCountedNothing() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "broker down");
        clock.advance(WINDOW.multipliedBy(3));

        alerts.flush();
        alerts.flush();

        assertThat(listener.alerts()).hasSize(1);
    }

    @Test
    void flushOpensANewWindowSoTheNextMessageIsCountedAgain() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "e1");
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-2", "order.paid", null), "e2");
        clock.advance(WINDOW);
        alerts.flush(); // raises m-2, opens a window until T0 + 2 windows

        clock.advance(Duration.ofMinutes(1));
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-3", "order.paid", null), "e3");

        assertThat(listener.alerts())
                .extracting(OutboxAlert::messageIds)
                .containsExactly(List.of("m-1"), List.of("m-2"));
        clock.set(T0.plus(WINDOW.multipliedBy(2)));
        alerts.flush();
        assertThat(listener.alerts())
                .extracting(OutboxAlert::messageIds)
                .containsExactly(List.of("m-1"), List.of("m-2"), List.of("m-3"));
    }

    @Test
    void messageAfterAnEndedWindowCarriesTheOnesCountedInIt() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "e1");
        alerts.exhausted(MessageKind.PUBLISHED, failed("m-2", "order.paid", null), "e2");
        clock.advance(WINDOW.plusSeconds(1)); // nobody flushed

        alerts.exhausted(MessageKind.PUBLISHED, failed("m-3", "order.paid", null), "e3");

        assertThat(listener.alerts()).hasSize(2);
        assertThat(listener.alerts().get(1).count()).isEqualTo(2);
        assertThat(listener.alerts().get(1).messageIds()).containsExactly("m-2", "m-3");
        assertThat(listener.alerts().get(1).lastError()).isEqualTo("e3");
    }

    @Test
    void topicsGroupsAndSidesHaveSeparateWindows() {
        alerts.exhausted(MessageKind.PUBLISHED, failed("p-1", "order.paid", null), "e");
        alerts.exhausted(MessageKind.PUBLISHED, failed("p-2", "order.cancelled", null), "e");
        alerts.exhausted(MessageKind.RECEIVED, failed("r-1", "order.paid", "inventory"), "e");
        alerts.exhausted(MessageKind.RECEIVED, failed("r-2", "order.paid", "membership"), "e");
        alerts.exhausted(MessageKind.RECEIVED, failed("r-3", "order.paid", "inventory"), "e");

        assertThat(listener.alerts())
                .extracting(alert -> alert.kind() + " " + alert.topic() + " " + alert.group())
                .containsExactly(
                        "PUBLISHED order.paid null",
                        "PUBLISHED order.cancelled null",
                        "RECEIVED order.paid inventory",
                        "RECEIVED order.paid membership");

        clock.advance(WINDOW);
        alerts.flush();
        assertThat(listener.alerts()).hasSize(5);
        assertThat(listener.alerts().get(4).messageIds()).containsExactly("r-3");
        assertThat(listener.alerts().get(4).group()).isEqualTo("inventory");
    }

    @Test
    void zeroWindowAlertsEveryMessage() {
        AlertDispatcher unthrottled = new AlertDispatcher(List.of(listener), Duration.ZERO, clock);

        unthrottled.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "e");
        unthrottled.exhausted(MessageKind.PUBLISHED, failed("m-2", "order.paid", null), "e");

        assertThat(listener.alerts()).extracting(OutboxAlert::count).containsExactly(1, 1);
    }

    @Test
    void listenerThatThrowsDoesNotStopTheOthers() {
        RecordingAlertListener second = new RecordingAlertListener();
        AlertDispatcher guarded = new AlertDispatcher(
                List.of(
                        listener,
                        alert -> {
                            throw new IllegalStateException("mail server down");
                        },
                        second),
                WINDOW,
                clock);

        try (LogCapture log = LogCapture.of(AlertDispatcher.class)) {
            guarded.exhausted(MessageKind.PUBLISHED, failed("m-1", "order.paid", null), "broker down");

            assertThat(log.messages(Level.ERROR)).singleElement().asString().contains("order.paid");
        }
        assertThat(listener.alerts()).hasSize(1);
        assertThat(second.alerts()).hasSize(1);
    }

    private static StoredMessage failed(String id, String topic, String group) {
        return new StoredMessage(
                id,
                group,
                topic,
                null,
                Map.of(),
                "{}",
                MessageStatus.FAILED,
                50,
                T0,
                null,
                T0.plus(Duration.ofDays(15)),
                "broker down",
                51);
    }
}
