package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class TestServicesTest {
    private static final String VARIABLE = TestServices.POSTGRES_URL;

    @Test
    void theVariableWinsAndNoContainerIsStarted() {
        AtomicBoolean started = new AtomicBoolean();

        String url = TestServices.locate(
                VARIABLE, Map.of(VARIABLE, " jdbc:postgresql://127.0.0.1:5432/test?user=postgres "), () -> true, () -> {
                    started.set(true);
                    return "container";
                });

        assertThat(url).isEqualTo("jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
        assertThat(started).isFalse();
    }

    @Test
    void withoutTheVariableAContainerIsStartedWhenDockerIsThere() {
        assertThat(TestServices.locate(VARIABLE, Map.of(VARIABLE, " "), () -> true, () -> "container"))
                .isEqualTo("container");
    }

    @Test
    void withoutVariableAndDockerTheTestIsSkippedNamingTheVariable() {
        assertThatThrownBy(() -> TestServices.locate(VARIABLE, Map.of(), () -> false, () -> "container"))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining(VARIABLE);
    }

    @Test
    void whenServicesAreRequiredAMissingOneFailsNamingTheVariable() {
        Map<String, String> ci = Map.of(TestServices.REQUIRE_SERVICES, "true");

        assertThatThrownBy(() -> TestServices.locate(VARIABLE, ci, () -> false, () -> "container"))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining(VARIABLE)
                .hasMessageContaining(TestServices.REQUIRE_SERVICES);
    }
}
