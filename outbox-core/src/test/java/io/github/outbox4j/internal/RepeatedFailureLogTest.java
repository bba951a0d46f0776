package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.github.outbox4j.testing.LogCapture;
import io.github.outbox4j.testing.MutableClock;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RepeatedFailureLogTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration RETRY_IN = Duration.ofSeconds(1);
    private static final SQLTransientConnectionException DOWN =
            new SQLTransientConnectionException("Connection to 127.0.0.1:5432 refused");

    private final MutableClock clock = new MutableClock(T0);
    private final LogCapture logs = LogCapture.of(RepeatedFailureLogTest.class);
    private final RepeatedFailureLog failures = new RepeatedFailureLog(
            LoggerFactory.getLogger(RepeatedFailureLogTest.class), clock, "Polling due PUBLISHED messages");

    @AfterEach
    void closeLogs() {
        logs.close();
    }

    @Test
    void aTaskThatNeverFailsLogsNothing() {
        failures.succeeded();
        failures.succeeded();

        assertThat(logs.events()).isEmpty();
    }

    @Test
    void theFirstFailureIsAWarningWithTheStackTrace() {
        failures.failed(RETRY_IN, DOWN);

        assertThat(logs.events()).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage())
                    .isEqualTo("Polling due PUBLISHED messages failed, trying again in PT1S:"
                            + " java.sql.SQLTransientConnectionException: Connection to 127.0.0.1:5432 refused");
            assertThat(event.getThrowableProxy().getClassName())
                    .isEqualTo(SQLTransientConnectionException.class.getName());
        });
    }

    @Test
    void anOutageOfTwoAndAHalfMinutesLogsThreeWarningsAndTheRecovery() {
        for (int second = 0; second < 150; second++) {
            clock.set(T0.plusSeconds(second));
            failures.failed(RETRY_IN, DOWN);
        }
        clock.set(T0.plusSeconds(150));
        failures.succeeded();

        assertThat(levels(Level.WARN)).hasSize(3);
        assertThat(levels(Level.DEBUG)).hasSize(147);
        List<ILoggingEvent> warnings = logs.events().stream()
                .filter(event -> event.getLevel() == Level.WARN)
                .toList();
        assertThat(warnings.get(1).getFormattedMessage())
                .isEqualTo("Polling due PUBLISHED messages still fails: 61 failures since " + T0
                        + ", trying again in PT1S: java.sql.SQLTransientConnectionException: Connection to"
                        + " 127.0.0.1:5432 refused");
        assertThat(warnings.get(1).getThrowableProxy())
                .as("the stack trace only once")
                .isNull();
        assertThat(warnings.get(2).getFormattedMessage()).contains("still fails: 121 failures since " + T0);
        assertThat(logs.messages(Level.INFO))
                .containsExactly("Polling due PUBLISHED messages works again, after 150 failures since " + T0);
    }

    @Test
    void aFailureAfterTheRecoveryIsAWarningWithTheStackTraceAgain() {
        failures.failed(RETRY_IN, DOWN);
        failures.succeeded();
        clock.advance(Duration.ofSeconds(5));
        failures.failed(RETRY_IN, DOWN);

        assertThat(logs.messages(Level.INFO))
                .containsExactly("Polling due PUBLISHED messages works again, after 1 failure since " + T0);
        assertThat(levels(Level.WARN)).hasSize(2);
        assertThat(logs.events().get(2).getThrowableProxy()).isNotNull();
    }

    private List<ILoggingEvent> levels(Level level) {
        return logs.events().stream().filter(event -> event.getLevel() == level).toList();
    }
}
