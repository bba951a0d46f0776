package io.github.outbox4j.reliability;

import io.github.outbox4j.testkit.ProcessFreezer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A MariaDB server of the test's own: {@code mariadb-install-db} into a temporary directory, then {@code mariadbd}
 * as a child process on a free loopback port. A clean stop is SIGTERM (the server shuts down), a crash SIGKILL (the
 * next start recovers InnoDB from its redo log). The server skips the grant tables: it listens on loopback only
 * and holds nothing but the test's tables.
 *
 * <p>The binaries are the machine's ({@code /usr/sbin/mariadbd}, {@code /usr/bin/mariadb-install-db}, Debian's
 * packages); without them the test is skipped, or fails in CI.
 */
final class PrivateMariaDb implements PrivateDatabase {
    private static final Path SERVER = Path.of("/usr/sbin/mariadbd");
    private static final Path INSTALL = Path.of("/usr/bin/mariadb-install-db");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path directory;
    private final Path data;
    private final Path log;
    private final int port;
    private final Thread shutdownHook;
    private Process process;
    private final ProcessFreezer freezer = new ProcessFreezer();

    private PrivateMariaDb(Path directory) {
        this.directory = directory;
        this.data = directory.resolve("data");
        this.log = directory.resolve("server.log");
        this.port = LocalServers.freePort();
        this.shutdownHook = new Thread(this::killOnExit, "private-mariadb-shutdown-" + port);
    }

    /** Creates and starts a server; skips the calling test (or fails it in CI) when the machine has none. */
    static PrivateMariaDb launch() throws Exception {
        if (!Files.isExecutable(SERVER) || !Files.isExecutable(INSTALL)) {
            LocalServers.unavailable("No MariaDB server binaries (" + SERVER + ", " + INSTALL + ")");
        }
        PrivateMariaDb server = new PrivateMariaDb(Files.createTempDirectory("outbox4j-mariadb-"));
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        try {
            List<String> install = new ArrayList<>(List.of(
                    INSTALL.toString(),
                    "--no-defaults",
                    "--datadir=" + server.data,
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db"));
            if (LocalServers.runningAsRoot()) {
                install.add("--user=root");
            }
            LocalServers.run(Duration.ofSeconds(120), null, install);
            server.start();
            try (var connection = java.sql.DriverManager.getConnection(
                            "jdbc:mysql://127.0.0.1:" + server.port + "/?user=root");
                    var statement = connection.createStatement()) {
                statement.execute("CREATE DATABASE IF NOT EXISTS test");
            }
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    @Override
    public String name() {
        return "MariaDB";
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:mysql://127.0.0.1:" + port + "/test?user=root";
    }

    @Override
    public void start() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                SERVER.toString(),
                "--no-defaults",
                "--datadir=" + data,
                "--port=" + port,
                "--bind-address=127.0.0.1",
                "--socket=" + directory.resolve("mariadb.sock"),
                "--pid-file=" + directory.resolve("mariadb.pid"),
                "--skip-grant-tables",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=100"));
        if (LocalServers.runningAsRoot()) {
            command.add("--user=root");
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        LocalServers.awaitPort(port, START_TIMEOUT, process, log);
    }

    @Override
    public void freeze() {
        freezer.freeze(process.pid());
    }

    @Override
    public void thaw() {
        freezer.thaw();
    }

    @Override
    public void stop(boolean crash) throws InterruptedException {
        thaw(); // a frozen server would not see the SIGTERM
        if (crash) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("MariaDB did not stop within 60 s: " + LocalServers.tail(log));
        }
        process = null;
        LocalServers.awaitPortClosed(port, Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        try {
            killOnExit();
        } finally {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
            LocalServers.deleteRecursively(directory);
        }
    }

    private void killOnExit() {
        Process running = process;
        if (running != null) {
            running.destroyForcibly();
            try {
                running.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }
}
