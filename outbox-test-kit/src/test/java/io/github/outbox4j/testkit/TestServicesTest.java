package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
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

    @Test
    void aServiceThatAnswersPasses() throws Exception {
        try (ServerSocket listening = new ServerSocket(0)) {
            TestServices.requireAnswering(
                    TestServices.KAFKA_BOOTSTRAP, "127.0.0.1:" + listening.getLocalPort(), " (hint)");
        }
    }

    @Test
    void aServiceThatDoesNotAnswerFailsAtOnceNamingTheVariableAndTheAddress() throws Exception {
        int closedPort;
        try (ServerSocket listening = new ServerSocket(0)) {
            closedPort = listening.getLocalPort();
        }
        String uri = "amqp://guest:secret@127.0.0.1:" + closedPort;

        assertThatThrownBy(() -> TestServices.requireAnswering(TestServices.RABBITMQ_URI, uri, ""))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining(TestServices.RABBITMQ_URI)
                .hasMessageContaining("nothing answers at 127.0.0.1:" + closedPort)
                .hasMessageNotContaining("secret");
    }

    @Test
    void theAddressIsReadFromEachKindOfLocation() {
        assertThat(TestServices.address("jdbc:postgresql://127.0.0.1:5433/test?user=postgres"))
                .isEqualTo(InetSocketAddress.createUnresolved("127.0.0.1", 5433));
        assertThat(TestServices.address("jdbc:mysql://db.local/test?user=root"))
                .isEqualTo(InetSocketAddress.createUnresolved("db.local", 3306));
        assertThat(TestServices.address("amqp://guest:guest@rabbit.local"))
                .isEqualTo(InetSocketAddress.createUnresolved("rabbit.local", 5672));
        assertThat(TestServices.address("amqps://rabbit.local"))
                .isEqualTo(InetSocketAddress.createUnresolved("rabbit.local", 5671));
        assertThat(TestServices.address("kafka-1:9094,kafka-2:9094"))
                .isEqualTo(InetSocketAddress.createUnresolved("kafka-1", 9094));
        assertThat(TestServices.address("jdbc:postgresql://h1:5432,h2:5432/test"))
                .isNull();
        assertThat(TestServices.address("not an address")).isNull();
    }
}
