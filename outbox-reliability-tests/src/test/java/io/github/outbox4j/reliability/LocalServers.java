package io.github.outbox4j.reliability;

import io.github.outbox4j.testkit.TestServices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What the private servers of the reliability tests share ({@link PrivatePostgres}, {@link PrivateMariaDb},
 * {@link PrivateRabbitMq}): each runs this machine's own server binaries (Debian packages) on a free loopback
 * port with a data directory of its own, so that a test may stop, kill and restart it without touching the
 * servers other tests and builds share.
 */
final class LocalServers {
    private LocalServers() {}

    /**
     * Skips the calling test because this machine cannot run the server; fails it instead when {@value
     * TestServices#REQUIRE_SERVICES}{@code =true}, as in the project's CI, where the binaries are installed.
     */
    static void unavailable(String problem) {
        if (Boolean.parseBoolean(System.getenv(TestServices.REQUIRE_SERVICES))) {
            Assertions.fail(
                    problem + "; " + TestServices.REQUIRE_SERVICES + "=true, so this fails instead of skipping");
        }
        Assumptions.abort(problem + ": skipped");
    }

    static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** A loopback port nobody listens on now. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean portOpen(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Polls until the port accepts connections; {@code process}, if given, must stay alive meanwhile. */
    static void awaitPort(int port, Duration timeout, Process process, Path log) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!portOpen(port)) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("The server exited with " + process.exitValue() + " before port " + port
                        + " opened: " + tail(log));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Port " + port + " did not open within " + timeout + ": " + tail(log));
            }
            TimeUnit.MILLISECONDS.sleep(100); // polling a port: there is nothing to be told by
        }
    }

    /** Polls until nothing listens on the port any more. */
    static void awaitPortClosed(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (portOpen(port)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Port " + port + " is still open after " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    /**
     * Runs a command to its end and returns its output; throws if it cannot run, takes longer than {@code
     * timeout} or exits non-zero. {@code runAs} (when this JVM runs as root) runs it as that user.
     */
    static String run(Duration timeout, String runAs, List<String> command) {
        List<String> full = new ArrayList<>();
        if (runAs != null) {
            full.addAll(List.of("runuser", "-u", runAs, "--"));
        }
        full.addAll(command);
        Path output = null;
        try {
            output = Files.createTempFile("outbox4j-command", ".out");
            Process process = new ProcessBuilder(full)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", full) + " did not finish in " + timeout);
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", full) + " exited with " + process.exitValue() + ": " + text.strip());
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", full), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }

    static void deleteRecursively(Path directory) {
        if (directory == null || !Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last lines of a server's log, for an error message. */
    static String tail(Path log) {
        if (log == null || !Files.exists(log)) {
            return "(no log)";
        }
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }
}
