package io.github.outbox4j.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A RabbitMQ node of the test's own, configured with a small {@code max_message_size}, so that a test can send a
 * message the broker refuses as too large without sending 128 MiB to the machine's shared broker or changing its
 * settings under other builds. It runs the machine's {@code rabbitmq-server} (Debian's package) as a child process
 * with its own node name, ports, configuration, database and Erlang cookie in a temporary directory, and uses the
 * machine's running {@code epmd}. Without the package the test is skipped, or fails in CI.
 */
final class PrivateRabbitMq implements AutoCloseable {
    private static final Path SERVER = Path.of("/usr/lib/rabbitmq/bin/rabbitmq-server");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path directory;
    private final Path log;
    private final int port;
    private final Process process;
    private final Thread shutdownHook;

    private PrivateRabbitMq(Path directory, int port, Process process) {
        this.directory = directory;
        this.log = directory.resolve("server.log");
        this.port = port;
        this.process = process;
        // a test that died without closing must not leave the node running
        this.shutdownHook = new Thread(this::stop, "private-rabbitmq-shutdown-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts a node whose {@code max_message_size} is {@code maxMessageSize} bytes; waits until it takes clients. */
    static PrivateRabbitMq launch(int maxMessageSize) throws IOException, InterruptedException {
        if (!Files.isExecutable(SERVER)) {
            LocalServers.unavailable("No RabbitMQ server (" + SERVER + ")");
        }
        Path directory = Files.createTempDirectory("outbox4j-rabbitmq-");
        int port = LocalServers.freePort();
        Files.writeString(
                directory.resolve("rabbitmq.conf"),
                "listeners.tcp.1 = 127.0.0.1:" + port + "\nmax_message_size = " + maxMessageSize + "\n",
                StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("enabled_plugins"), "[].\n", StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("rabbitmq-env.conf"), "", StandardCharsets.UTF_8);
        ProcessBuilder builder = new ProcessBuilder(SERVER.toString())
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(directory.resolve("server.log").toFile());
        Map<String, String> environment = builder.environment();
        environment.put("HOME", directory.toString()); // its own Erlang cookie
        environment.put("RABBITMQ_NODENAME", "outbox4j-" + port + "@localhost");
        environment.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        environment.put("RABBITMQ_NODE_PORT", Integer.toString(port));
        environment.put("RABBITMQ_DIST_PORT", Integer.toString(LocalServers.freePort()));
        environment.put(
                "RABBITMQ_CONFIG_FILE", directory.resolve("rabbitmq.conf").toString());
        environment.put(
                "RABBITMQ_CONF_ENV_FILE", directory.resolve("rabbitmq-env.conf").toString());
        environment.put(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                directory.resolve("enabled_plugins").toString());
        environment.put("RABBITMQ_MNESIA_BASE", directory.resolve("mnesia").toString());
        environment.put("RABBITMQ_LOG_BASE", directory.resolve("log").toString());
        environment.put("RABBITMQ_PID_FILE", directory.resolve("rabbitmq.pid").toString());
        PrivateRabbitMq node = new PrivateRabbitMq(directory, port, builder.start());
        try {
            LocalServers.awaitPort(port, START_TIMEOUT, node.process, node.log);
        } catch (RuntimeException | InterruptedException e) {
            node.close();
            throw e;
        }
        return node;
    }

    String uri() {
        return "amqp://guest:guest@127.0.0.1:" + port;
    }

    /** Stops the node (SIGTERM to the Erlang VM: a clean shutdown) and deletes its directory. */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
            LocalServers.deleteRecursively(directory);
        }
    }

    private void stop() {
        List<ProcessHandle> all =
                new java.util.ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle handle : all) {
            try {
                handle.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                handle.destroyForcibly();
            }
        }
    }
}
