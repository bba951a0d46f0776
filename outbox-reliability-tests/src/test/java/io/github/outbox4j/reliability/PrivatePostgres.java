package io.github.outbox4j.reliability;

import io.github.outbox4j.testkit.ProcessFreezer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of the test's own: {@code initdb} into a temporary directory, {@code pg_ctl start} on a free
 * loopback port, {@code pg_ctl stop -m fast} (clean) or {@code -m immediate} (a crash: the postmaster and its
 * backends quit at once, and the next start recovers from the WAL).
 *
 * <p>The binaries are the machine's: the directory named by the system property {@value #BIN_PROPERTY} or the
 * environment variable {@value #BIN_VARIABLE}, else the newest {@code /usr/lib/postgresql/<version>/bin} (Debian's
 * and Ubuntu's packages). PostgreSQL refuses to run as root: run as root (as CI does), the commands run as the
 * {@code postgres} user of those packages through {@code runuser}. The server runs with {@code fsync=off}: a
 * stopped or killed server loses nothing that way, only a machine crash would.
 */
final class PrivatePostgres implements PrivateDatabase {
    static final String BIN_PROPERTY = "outbox.test.postgres.bin";
    static final String BIN_VARIABLE = "OUTBOX_TEST_POSTGRES_BIN";
    private static final String SYSTEM_USER = "postgres";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);

    private final Path bin;
    private final String runAs;
    private final Path directory;
    private final Path data;
    private final Path log;
    private final int port;
    private final Thread shutdownHook;
    private boolean running;
    private final ProcessFreezer freezer = new ProcessFreezer();

    private PrivatePostgres(Path bin, String runAs, Path directory) {
        this.bin = bin;
        this.runAs = runAs;
        this.directory = directory;
        this.data = directory.resolve("data");
        this.log = directory.resolve("server.log");
        this.port = LocalServers.freePort();
        this.shutdownHook = new Thread(this::stopOnExit, "private-postgres-shutdown-" + port);
    }

    /** Creates and starts a server; skips the calling test (or fails it in CI) when the machine has none. */
    static PrivatePostgres launch() throws IOException {
        Path bin = binaries();
        if (bin == null) {
            LocalServers.unavailable(
                    "No PostgreSQL server binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin;" + " set "
                            + BIN_VARIABLE);
        }
        String runAs = null;
        Path directory = Files.createTempDirectory("outbox4j-postgres-");
        if (LocalServers.runningAsRoot()) {
            runAs = SYSTEM_USER;
            try {
                UserPrincipal owner = directory
                        .getFileSystem()
                        .getUserPrincipalLookupService()
                        .lookupPrincipalByName(SYSTEM_USER);
                Files.setOwner(directory, owner);
            } catch (IOException e) {
                LocalServers.deleteRecursively(directory);
                LocalServers.unavailable("PostgreSQL refuses to run as root and there is no '" + SYSTEM_USER
                        + "' user to run it as (" + e + ")");
            }
        }
        PrivatePostgres server = new PrivatePostgres(bin, runAs, directory);
        Runtime.getRuntime().addShutdownHook(server.shutdownHook);
        try {
            LocalServers.run(
                    COMMAND_TIMEOUT,
                    runAs,
                    List.of(
                            bin.resolve("initdb").toString(),
                            "-D",
                            server.data.toString(),
                            "-U",
                            "postgres",
                            "-A",
                            "trust",
                            "-E",
                            "UTF8",
                            "--no-locale",
                            "--no-sync"));
            server.start();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    @Override
    public String name() {
        return "PostgreSQL";
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    @Override
    public void start() {
        pgCtl(List.of(
                "-l",
                log.toString(),
                "-w",
                "-t",
                "60",
                "-o",
                "-p " + port + " -k " + directory + " -c listen_addresses=127.0.0.1 -c fsync=off"
                        + " -c max_connections=60",
                "start"));
        running = true;
    }

    /** The postmaster first (its pid is the first line of {@code postmaster.pid}), then its backends and workers. */
    @Override
    public void freeze() {
        try {
            long postmaster = Long.parseLong(
                    Files.readAllLines(data.resolve("postmaster.pid")).get(0).strip());
            freezer.freeze(postmaster);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the postmaster's pid", e);
        }
    }

    @Override
    public void thaw() {
        freezer.thaw();
    }

    @Override
    public void stop(boolean crash) {
        thaw(); // a frozen server would not see pg_ctl's signal
        pgCtl(List.of("-m", crash ? "immediate" : "fast", "-w", "-t", "60", "stop"));
        running = false;
    }

    @Override
    public void close() {
        try {
            if (running) {
                stop(true);
            }
        } finally {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
            LocalServers.deleteRecursively(directory);
        }
    }

    private void pgCtl(List<String> arguments) {
        List<String> command = new java.util.ArrayList<>();
        command.add(bin.resolve("pg_ctl").toString());
        command.add("-D");
        command.add(data.toString());
        command.addAll(arguments);
        try {
            LocalServers.run(COMMAND_TIMEOUT, runAs, command);
        } catch (RuntimeException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + LocalServers.tail(log), e);
        }
    }

    /** A test that died without closing must not leave a server running. */
    private void stopOnExit() {
        if (running) {
            try {
                stop(true);
            } catch (RuntimeException ignored) {
                // the JVM is exiting
            }
        }
    }

    private static Path binaries() {
        String configured = System.getProperty(BIN_PROPERTY, System.getenv(BIN_VARIABLE));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured.strip());
        }
        Path versions = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(versions)) {
            return null;
        }
        try (Stream<Path> candidates = Files.list(versions)) {
            return candidates
                    .map(version -> version.resolve("bin"))
                    .filter(dir ->
                            Files.isExecutable(dir.resolve("pg_ctl")) && Files.isExecutable(dir.resolve("initdb")))
                    .max(Comparator.comparingInt(PrivatePostgres::majorVersion))
                    .orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
