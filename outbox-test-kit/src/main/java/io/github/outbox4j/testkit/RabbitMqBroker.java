package io.github.outbox4j.testkit;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Breaks the test RabbitMQ broker on purpose, for tests of outages: closes chosen client connections, stops and
 * starts the broker application, all through {@code rabbitmqctl} on this machine, and freezes the node's process.
 *
 * <p>Only usable when {@code rabbitmqctl} runs here (as a user allowed to control the node) and
 * {@link TestServices#rabbitMqUri()} points at this machine's loopback, so that the node it controls is the one
 * the tests use. {@link #assumeControllable()} skips the calling test otherwise, or fails it when
 * {@value TestServices#REQUIRE_SERVICES}{@code =true}.
 *
 * <p>The broker is shared by every test (and every test JVM) of the machine: a test that calls
 * {@link #stopApp()} must call {@link #startApp()} in a {@code finally} block or an {@code @AfterEach}.
 * Thread-safe.
 */
public final class RabbitMqBroker {
    /** The {@code rabbitmqctl} command; override with this system property or environment variable. */
    public static final String RABBITMQCTL = "OUTBOX_TEST_RABBITMQCTL";

    private static final Logger log = LoggerFactory.getLogger(RabbitMqBroker.class);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1", "[::1]");

    private static String unusableBecause;
    private static boolean checked;
    private static final ProcessFreezer node = new ProcessFreezer();

    static {
        // a test JVM that exits between freeze() and thaw() must not leave the machine's broker frozen
        Runtime.getRuntime().addShutdownHook(new Thread(RabbitMqBroker::thaw, "rabbitmq-thaw-on-exit"));
    }

    private RabbitMqBroker() {}

    /**
     * Skips the calling test unless the broker can be controlled from here; fails it instead when
     * {@value TestServices#REQUIRE_SERVICES}{@code =true}.
     */
    public static void assumeControllable() {
        String problem = checkControllable();
        if (problem == null) {
            return;
        }
        if (Boolean.parseBoolean(System.getenv(TestServices.REQUIRE_SERVICES))) {
            Assertions.fail(
                    problem + "; " + TestServices.REQUIRE_SERVICES + "=true, so this fails instead of skipping");
        }
        Assumptions.abort(problem + ": skipped");
    }

    /**
     * Closes every connection whose client-provided name starts with {@code namePrefix}, as a network failure
     * or an operator would: the clients see a connection closed by the broker (320 CONNECTION_FORCED).
     *
     * @return how many connections were closed
     */
    public static int closeConnections(String namePrefix) {
        List<String> pids = new ArrayList<>();
        String marker = "{\"connection_name\",\"" + namePrefix;
        for (String line : rabbitmqctl("-q", "list_connections", "--no-table-headers", "pid", "client_properties")
                .split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0 && line.indexOf(marker, tab) > 0) {
                pids.add(line.substring(0, tab).strip());
            }
        }
        for (String pid : pids) {
            rabbitmqctl("-q", "close_connection", pid, "closed by an Outbox4j test");
        }
        log.info("Closed {} RabbitMQ connection(s) named {}*", pids.size(), namePrefix);
        return pids.size();
    }

    /** Stops the RabbitMQ application (the Erlang node keeps running): every client loses its connection. */
    public static void stopApp() {
        log.warn("Stopping the RabbitMQ application");
        rabbitmqctl("-q", "stop_app");
    }

    /** Starts the RabbitMQ application and waits until it runs. Does nothing if it already runs. */
    public static void startApp() {
        rabbitmqctl("-q", "start_app");
        rabbitmqctl("-q", "await_startup");
        log.info("RabbitMQ application running");
    }

    /**
     * Freezes the broker's node (SIGSTOP to its Erlang VM and the processes it started): every connection stays open
     * and nothing answers on it, as in a long pause or behind a network that drops every packet. The caller must call
     * {@link #thaw()} in a {@code finally} block or an {@code @AfterEach}; a JVM exit thaws it too.
     */
    public static synchronized void freeze() {
        String pid = rabbitmqctl("-q", "eval", "os:getpid().").replaceAll("[^0-9]", "");
        if (pid.isEmpty()) {
            throw new IllegalStateException("rabbitmqctl did not tell the node's process id");
        }
        node.freeze(Long.parseLong(pid));
        log.warn("RabbitMQ node frozen (SIGSTOP, pid {})", pid);
    }

    /** Lets a frozen node go on (SIGCONT). Does nothing when it is not frozen. */
    public static synchronized void thaw() {
        if (node.thaw()) {
            log.info("RabbitMQ node thawed (SIGCONT)");
        }
    }

    private static synchronized String checkControllable() {
        if (checked) {
            return unusableBecause;
        }
        String uri = TestServices.rabbitMqUri();
        String host = URI.create(uri).getHost();
        if (host == null || !LOOPBACK.contains(host)) {
            unusableBecause = "the test RabbitMQ broker is not on this machine's loopback (" + host
                    + "), so rabbitmqctl cannot control it";
        } else {
            try {
                rabbitmqctl("-q", "status");
            } catch (RuntimeException e) {
                unusableBecause = "rabbitmqctl cannot control the local RabbitMQ node (" + e.getMessage() + "); set "
                        + RABBITMQCTL + " if it is elsewhere";
            }
        }
        checked = true;
        return unusableBecause;
    }

    private static String command() {
        String configured = System.getProperty(RABBITMQCTL, System.getenv(RABBITMQCTL));
        return configured == null || configured.isBlank() ? "rabbitmqctl" : configured.strip();
    }

    /** Runs rabbitmqctl and returns its output; throws if it cannot run, times out or exits non-zero. */
    private static String rabbitmqctl(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(command());
        command.addAll(List.of(arguments));
        File output = null;
        try {
            output = File.createTempFile("rabbitmqctl", ".out");
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output)
                    .start();
            if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + COMMAND_TIMEOUT);
            }
            String text = Files.readString(output.toPath(), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", command) + " exited with " + process.exitValue() + ": " + text.strip());
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (output != null && !output.delete()) {
                output.deleteOnExit();
            }
        }
    }
}
