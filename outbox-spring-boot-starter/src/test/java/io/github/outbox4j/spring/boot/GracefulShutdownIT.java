package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A Spring Boot application on PostgreSQL and Kafka, in a JVM of its own, paying orders and consuming them while
 * it receives SIGTERM, as from {@code kill}, systemd or Kubernetes. Graceful means: the publishing stops first,
 * the dispatcher sends everything committed before the outbox closes, the consumers finish the messages they hold,
 * and the JVM exits on its own. Then a second instance starts and consumes the rest: every paid order has exactly
 * one effect.
 *
 * <p>The child's output goes to a file rather than a pipe, so that what it prints while shutting down is kept.
 */
class GracefulShutdownIT {
    private static final Duration STARTUP = Duration.ofSeconds(120);
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final int SIGTERM_EXIT_CODE = 128 + 15;
    private static final Pattern LOAD_STOPPED = Pattern.compile("LOAD STOPPED after (\\d+) orders");

    private final List<Process> processes = new ArrayList<>();
    private DataSource dataSource;
    private JdbcTemplate jdbc;
    private TestTables tables;
    private String suffix;

    @BeforeEach
    void createTables() {
        dataSource = TestServices.postgres();
        jdbc = new JdbcTemplate(dataSource);
        tables = TestTables.create(dataSource);
        suffix = tables.publishedTable().substring(tables.publishedTable().lastIndexOf('_') + 1);
        jdbc.execute("CREATE TABLE " + ordersTable() + " (id BIGINT PRIMARY KEY, status VARCHAR(20) NOT NULL)");
        jdbc.execute("CREATE TABLE " + effectsTable() + " (order_id BIGINT NOT NULL)");
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        jdbc.execute("DROP TABLE IF EXISTS " + ordersTable());
        jdbc.execute("DROP TABLE IF EXISTS " + effectsTable());
        tables.close();
    }

    @Test
    void sigtermStopsPublishingSendsWhatWasCommittedAndFinishesTheHandlersInFlight() throws Exception {
        Path firstOutput = Files.createTempFile("outbox-shutdown-first-", ".log");
        Process first = start(true, firstOutput);
        awaitOutput(first, firstOutput, "LOAD STARTED", STARTUP);
        await().atMost(DEADLINE).until(() -> count("SELECT count(*) FROM " + effectsTable()) >= 300);

        first.toHandle().destroy(); // SIGTERM; Process.destroy() would also close the pipes of a piped child

        assertThat(first.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS))
                .as("the application exits by itself after SIGTERM")
                .isTrue();
        String output = Files.readString(firstOutput, StandardCharsets.UTF_8);
        assertThat(first.exitValue()).as(output).isEqualTo(SIGTERM_EXIT_CODE);
        Matcher loadStopped = LOAD_STOPPED.matcher(output);
        assertThat(loadStopped.find()).as(output).isTrue();
        long paid = Long.parseLong(loadStopped.group(1));
        assertThat(output.indexOf("Outbox closed"))
                .as("the outbox closes after the publishing stopped\n%s", output)
                .isGreaterThan(loadStopped.end());
        assertThat(output).as("nothing failed while shutting down").doesNotContain(" ERROR ");

        long published = count("SELECT count(*) FROM " + tables.publishedTable());
        long notSent = count("SELECT count(*) FROM " + tables.publishedTable() + " WHERE status <> 'SUCCEEDED'");
        long received = count("SELECT count(*) FROM " + tables.receivedTable());
        long handled = count("SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'SUCCEEDED'");
        long effectsAtExit = count("SELECT count(*) FROM " + effectsTable());
        assertThat(count("SELECT count(*) FROM " + ordersTable())).isEqualTo(paid);
        assertThat(published).as("one message per paid order").isEqualTo(paid);
        assertThat(notSent)
                .as("the dispatcher sent every committed message before closing")
                .isZero();
        assertThat(handled)
                .as("every message the consumers had taken was handled before they stopped")
                .isEqualTo(received);
        assertThat(effectsAtExit).as("one effect per handled message").isEqualTo(handled);

        Path secondOutput = Files.createTempFile("outbox-shutdown-second-", ".log");
        Process second = start(false, secondOutput);
        awaitOutput(second, secondOutput, "Started ShutdownApplication", STARTUP);
        await().atMost(DEADLINE).until(() -> count("SELECT count(DISTINCT order_id) FROM " + effectsTable()) == paid);
        second.toHandle().destroy();
        assertThat(second.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        long effects = count("SELECT count(*) FROM " + effectsTable());
        long withoutEffect = count("SELECT count(*) FROM " + ordersTable() + " o WHERE NOT EXISTS (SELECT 1 FROM "
                + effectsTable() + " e WHERE e.order_id = o.id)");
        System.out.printf(
                "[graceful-shutdown] orders=%d, sigterms=2, handled by the first instance=%d, by the second=%d,"
                        + " lost=%d, applied twice=%d%n",
                paid, effectsAtExit, effects - effectsAtExit, withoutEffect, effects - paid);
        assertThat(withoutEffect).isZero();
        assertThat(effects).as("each order applied once").isEqualTo(paid);
    }

    private Process start(boolean load, Path output) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ShutdownApplication.class.getName(),
                "--spring.application.name=shutdown",
                "--spring.main.web-application-type=none",
                "--spring.datasource.url=" + TestServices.postgresUrl(),
                "--spring.kafka.bootstrap-servers=" + KafkaBroker.sharedBootstrapServers(),
                "--outbox.transport=kafka",
                "--outbox.kafka.create-topics.partitions=3",
                "--outbox.storage.published-table=" + tables.publishedTable(),
                "--outbox.storage.received-table=" + tables.receivedTable(),
                "--outbox.retry.first-delay=2s",
                "--outbox.retry.poll-interval=200ms",
                "--outbox.shutdown-timeout=30s",
                "--shutdown.topic=order.paid." + suffix,
                "--shutdown.group=warehouse-" + suffix,
                "--shutdown.orders-table=" + ordersTable(),
                "--shutdown.effects-table=" + effectsTable(),
                "--shutdown.load=" + load));
        File log = output.toFile();
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log)
                .start();
        processes.add(process);
        return process;
    }

    private static void awaitOutput(Process process, Path output, String text, Duration timeout) {
        await().atMost(timeout).until(() -> {
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            if (!process.isAlive()) {
                throw new AssertionError("the application exited with " + process.exitValue() + " before printing '"
                        + text + "':\n" + printed);
            }
            return printed.contains(text);
        });
    }

    private long count(String sql) {
        Long count = jdbc.queryForObject(sql, Long.class);
        return count == null ? 0 : count;
    }

    private String ordersTable() {
        return "shutdown_orders_" + suffix;
    }

    private String effectsTable() {
        return "shutdown_effects_" + suffix;
    }
}
