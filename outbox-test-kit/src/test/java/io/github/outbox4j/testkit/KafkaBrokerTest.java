package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerTest {
    @TempDir
    Path root;

    @Test
    void findsTheLibsOfTheReactorRootAboveTheWorkingDirectory() throws IOException {
        Path libs = Files.createDirectories(root.resolve("outbox-kafka-test-broker/target/kafka-libs"));
        Files.createFile(libs.resolve("kafka_2.13-4.1.2.jar"));
        Path module = Files.createDirectories(root.resolve("outbox-kafka/target"));

        assertThat(KafkaBroker.locateLibs(null, null, module)).isEqualTo(libs);
    }

    @Test
    void aConfiguredDirectoryWins() throws IOException {
        Path libs = Files.createDirectories(root.resolve("elsewhere"));
        Files.createFile(libs.resolve("kafka_2.13-4.1.2.jar"));

        assertThat(KafkaBroker.locateLibs(null, libs.toString(), root)).isEqualTo(libs);
        assertThat(KafkaBroker.locateLibs(libs.toString(), "/nowhere", root)).isEqualTo(libs);
    }

    @Test
    void unbuiltLibsNameTheCommandThatBuildsThem() throws IOException {
        Files.createDirectories(root.resolve("outbox-kafka-test-broker"));

        assertThatThrownBy(() -> KafkaBroker.locateLibs(null, null, root.resolve("outbox-kafka")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("./mvnw package -pl outbox-kafka-test-broker");
    }

    @Test
    void aConfiguredDirectoryWithoutTheBrokerJarIsRefused() {
        assertThatThrownBy(() -> KafkaBroker.locateLibs(root.toString(), null, root))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kafka_2.13-*.jar")
                .hasMessageContaining(KafkaBroker.LIBS_VARIABLE);
    }
}
