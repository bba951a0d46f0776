package io.github.outbox4j.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in a separate JVM, for tests that
 * need one on a machine without Docker or a Kafka installation. Its jars come from Maven Central: the build of
 * the {@value #LIBS_MODULE} module copies them into {@code outbox-kafka-test-broker/target/kafka-libs}.
 *
 * <p>Each broker listens on free loopback ports with its own temporary data directory. {@link #stop()} shuts it
 * down gracefully (SIGTERM), {@link #kill()} like a crash; {@link #start()} starts it again on the same ports
 * with the same data, so a test can take the broker away for a while and bring it back with its topics and
 * committed offsets. {@link #close()} stops it and deletes the data. A JVM shutdown hook kills a broker that a
 * test forgot to close.
 *
 * <pre>{@code
 * try (KafkaBroker broker = KafkaBroker.create().start()) {
 *     transport = KafkaOutboxTransport.builder().bootstrapServers(broker.bootstrapServers()).build();
 *     broker.stop();   // outage
 *     broker.start();  // back, same address
 * }
 * }</pre>
 *
 * <p>Where the jars are: the system property {@value #LIBS_PROPERTY} or the environment variable {@value
 * #LIBS_VARIABLE}, else {@code outbox-kafka-test-broker/target/kafka-libs} found by walking up from the working
 * directory to the reactor root.
 *
 * <p>Thread-safe: the lifecycle methods are synchronized. Starting takes about 5 to 10 s (formatting the
 * storage the first time, then the broker itself), so share one broker per test class, or per JVM with {@link
 * #sharedBootstrapServers()}.
 */
public final class KafkaBroker implements AutoCloseable {
    /** The reactor module whose build copies the broker's jars. */
    public static final String LIBS_MODULE = "outbox-kafka-test-broker";
    /** System property naming the directory of the broker's jars. */
    public static final String LIBS_PROPERTY = "outbox.kafka.libs";
    /** Environment variable naming the directory of the broker's jars. */
    public static final String LIBS_VARIABLE = "OUTBOX_KAFKA_LIBS";

    private static final Logger log = LoggerFactory.getLogger(KafkaBroker.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final String LIBS_PATH = LIBS_MODULE + "/target/kafka-libs";

    private static KafkaBroker shared;

    private final Path libs;
    private final Path directory;
    private final Path dataDirectory;
    private final Path serverProperties;
    private final Path logFile;
    private final int port;
    private final int controllerPort;
    private final Map<String, String> extraProperties;
    private final Thread shutdownHook;
    private final ProcessFreezer freezer = new ProcessFreezer();
    private Process process;
    private boolean formatted;
    private boolean closed;

    private KafkaBroker(Map<String, String> extraProperties) {
        this.libs = locateLibs();
        this.extraProperties = new TreeMap<>(extraProperties);
        try {
            this.directory = Files.createTempDirectory("outbox-kafka-broker-");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a data directory for the Kafka broker", e);
        }
        this.dataDirectory = directory.resolve("data");
        this.serverProperties = directory.resolve("server.properties");
        this.logFile = directory.resolve("broker.log");
        int[] ports = freePorts(2);
        this.port = ports[0];
        this.controllerPort = ports[1];
        this.shutdownHook = new Thread(this::destroyOnExit, "outbox-kafka-broker-shutdown-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A new broker with the default settings, not started yet. */
    public static KafkaBroker create() {
        return create(Map.of());
    }

    /**
     * A new broker, not started yet, with {@code serverProperties} added to (or replacing) the defaults: {@code
     * num.partitions=3}, replication factor 1 everywhere, {@code group.initial.rebalance.delay.ms=0}.
     */
    public static KafkaBroker create(Map<String, String> serverProperties) {
        return new KafkaBroker(serverProperties);
    }

    /**
     * The bootstrap servers the tests of this JVM share: {@value TestServices#KAFKA_BOOTSTRAP} when set,
     * else a broker started on first use and kept until the JVM exits. Tests that stop or restart a broker
     * start their own instead.
     */
    public static synchronized String sharedBootstrapServers() {
        String configured = System.getenv(TestServices.KAFKA_BOOTSTRAP);
        if (configured != null && !configured.isBlank()) {
            return TestServices.kafkaBootstrap();
        }
        if (shared == null) {
            shared = create().start();
            log.info(
                    "{} is not set: started a Kafka broker for this JVM's tests on {}",
                    TestServices.KAFKA_BOOTSTRAP,
                    shared.bootstrapServers());
        }
        return shared.bootstrapServers();
    }

    /**
     * Starts the broker (again, after {@link #stop()} or {@link #kill()}: same ports, same data) and waits until
     * it accepts connections. Does nothing when it is running.
     */
    public synchronized KafkaBroker start() {
        requireOpen();
        if (isRunning()) {
            return this;
        }
        try {
            if (!formatted) {
                writeConfiguration();
                format();
                formatted = true;
            }
            process = new ProcessBuilder(command("kafka.Kafka", serverProperties.toString()))
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the Kafka broker", e);
        }
        awaitPort();
        log.info("Kafka broker up on {} (pid {}, data and log in {})", bootstrapServers(), process.pid(), directory);
        return this;
    }

    /**
     * Freezes the broker (SIGSTOP): its connections stay open and nothing answers on them, as in a long
     * garbage-collection pause or behind a network that drops every packet. {@link #thaw()} lets it go on.
     */
    public synchronized void freeze() {
        requireOpen();
        if (!isRunning()) {
            throw new IllegalStateException("The Kafka broker on port " + port + " is not running");
        }
        freezer.freeze(process.pid());
        log.warn("Kafka broker on {} frozen (SIGSTOP, pid {})", bootstrapServers(), process.pid());
    }

    /** Lets a frozen broker go on (SIGCONT). Does nothing when it is not frozen. */
    public synchronized void thaw() {
        if (freezer.thaw()) {
            log.info("Kafka broker on {} thawed (SIGCONT)", bootstrapServers());
        }
    }

    /** Shuts the broker down gracefully (SIGTERM) and waits for its process to end; keeps the data. */
    public synchronized void stop() {
        if (!isRunning()) {
            return;
        }
        thaw(); // a frozen process would not see the SIGTERM
        process.destroy();
        if (!awaitExit(STOP_TIMEOUT)) {
            log.warn("Kafka broker on port {} did not stop within {}; killing it", port, STOP_TIMEOUT);
            kill();
        }
        awaitPortClosed();
    }

    /** Kills the broker at once, like a crash (SIGKILL); keeps the data. */
    public synchronized void kill() {
        if (!isRunning()) {
            return;
        }
        process.destroyForcibly();
        awaitExit(STOP_TIMEOUT);
        awaitPortClosed();
    }

    /** Whether the broker's process is alive. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** {@code 127.0.0.1:<port>}: the same across restarts. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The broker's own output (its log), appended to across restarts; worth reading when a test fails. */
    public Path logFile() {
        return logFile;
    }

    /** Stops the broker and deletes its data. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        stop();
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs anyway and finds the broker stopped
        }
        deleteRecursively(directory);
    }

    private List<String> command(String mainClass, String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        // small and quick: a test broker holds little data, and the machine also runs the build and the tests
        command.add("-Xms64m");
        command.add("-Xmx512m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Djava.awt.headless=true");
        command.add("-Dlog4j2.configurationFile="
                + directory.resolve("log4j2.properties").toUri());
        command.add("-cp");
        command.add(libs.toAbsolutePath() + File.separator + "*");
        command.add(mainClass);
        command.addAll(List.of(arguments));
        return command;
    }

    private void writeConfiguration() throws IOException {
        Map<String, String> properties = new TreeMap<>();
        properties.put("process.roles", "broker,controller");
        properties.put("node.id", "1");
        properties.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        properties.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        properties.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        properties.put("controller.listener.names", "CONTROLLER");
        properties.put("inter.broker.listener.name", "PLAINTEXT");
        properties.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        properties.put("log.dirs", dataDirectory.toString());
        properties.put("num.partitions", "3");
        properties.put("default.replication.factor", "1");
        properties.put("min.insync.replicas", "1");
        properties.put("offsets.topic.replication.factor", "1");
        properties.put("offsets.topic.num.partitions", "3");
        properties.put("transaction.state.log.replication.factor", "1");
        properties.put("transaction.state.log.min.isr", "1");
        properties.put("share.coordinator.state.topic.replication.factor", "1");
        properties.put("share.coordinator.state.topic.min.isr", "1");
        properties.put("group.initial.rebalance.delay.ms", "0");
        properties.put("auto.create.topics.enable", "true");
        properties.putAll(extraProperties);
        StringBuilder text = new StringBuilder("# written by ")
                .append(KafkaBroker.class.getName())
                .append('\n');
        properties.forEach(
                (key, value) -> text.append(key).append('=').append(value).append('\n'));
        Files.writeString(serverProperties, text.toString(), StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("log4j2.properties"), LOG4J2_PROPERTIES, StandardCharsets.UTF_8);
    }

    private void format() throws IOException {
        Process format = new ProcessBuilder(command(
                        "kafka.tools.StorageTool",
                        "format",
                        "-t",
                        clusterId(),
                        "-c",
                        serverProperties.toString(),
                        "--standalone"))
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        try {
            if (!format.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                format.destroyForcibly();
                throw new IllegalStateException("Formatting the Kafka broker's storage took over " + START_TIMEOUT
                        + "; see " + logFile + tail());
            }
        } catch (InterruptedException e) {
            format.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while formatting the Kafka broker's storage", e);
        }
        if (format.exitValue() != 0) {
            throw new IllegalStateException("Formatting the Kafka broker's storage failed (exit " + format.exitValue()
                    + "); see " + logFile + tail());
        }
    }

    /** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
    private static String clusterId() {
        while (true) {
            UUID uuid = UUID.randomUUID();
            byte[] bytes = new byte[16];
            for (int i = 0; i < 8; i++) {
                bytes[i] = (byte) (uuid.getMostSignificantBits() >>> (56 - 8 * i));
                bytes[8 + i] = (byte) (uuid.getLeastSignificantBits() >>> (56 - 8 * i));
            }
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            if (!id.startsWith("-")) {
                return id;
            }
        }
    }

    private void awaitPort() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!accepts(port)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("The Kafka broker exited with " + process.exitValue()
                        + " before accepting connections on port " + port + "; see " + logFile + tail());
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("The Kafka broker did not accept connections on port " + port
                        + " within " + START_TIMEOUT + "; see " + logFile + tail());
            }
            pause(Duration.ofMillis(100));
        }
    }

    private void awaitPortClosed() {
        // the process is gone, so the port is released; this only guards against a slow kernel
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (accepts(port) && System.nanoTime() < deadline) {
            pause(Duration.ofMillis(50));
        }
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
        }
    }

    private static int[] freePorts(int count) {
        // held open together so that the ports differ; closed before the broker binds them (a small race that
        // only another process grabbing a just-released ephemeral port can lose)
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket();
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress("127.0.0.1", 0));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot find free ports for the Kafka broker", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // nothing to do: the port stays free
                }
            }
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "";
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("This Kafka broker is closed; create a new one");
        }
    }

    private void destroyOnExit() {
        Process current = process;
        if (current != null && current.isAlive()) {
            current.destroyForcibly();
            try {
                current.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deleteRecursively(directory);
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.warn("Could not delete the Kafka broker's directory {}", root, e);
        }
    }

    static Path locateLibs() {
        return locateLibs(System.getProperty(LIBS_PROPERTY), System.getenv(LIBS_VARIABLE), Paths.get(""));
    }

    /** Finds the broker's jars; package-private so that the search is tested without touching the environment. */
    static Path locateLibs(String property, String variable, Path workingDirectory) {
        for (String configured : new String[] {property, variable}) {
            if (configured != null && !configured.isBlank()) {
                Path libs = Paths.get(configured.strip());
                if (!hasBrokerJar(libs)) {
                    throw new IllegalStateException("No Kafka broker jar (kafka_2.13-*.jar) in " + libs.toAbsolutePath()
                            + ", named by " + LIBS_PROPERTY + " or " + LIBS_VARIABLE);
                }
                return libs;
            }
        }
        for (Path dir = workingDirectory.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve(LIBS_MODULE))) {
                Path libs = dir.resolve(LIBS_PATH);
                if (hasBrokerJar(libs)) {
                    return libs;
                }
                throw new IllegalStateException("The Kafka broker's jars are not built: no kafka_2.13-*.jar in " + libs
                        + ". Run ./mvnw package -pl " + LIBS_MODULE + " in " + dir + " (or set " + LIBS_VARIABLE + ")");
            }
        }
        throw new IllegalStateException("Cannot find the Kafka broker's jars: no " + LIBS_MODULE + " module above "
                + workingDirectory.toAbsolutePath() + ". Run ./mvnw package -pl " + LIBS_MODULE + " in the Outbox4j"
                + " repository and set " + LIBS_VARIABLE + " to its " + LIBS_PATH + " directory");
    }

    private static boolean hasBrokerJar(Path libs) {
        if (!Files.isDirectory(libs)) {
            return false;
        }
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(libs, "kafka_2.13-*.jar")) {
            return jars.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    // Kafka's own layout; INFO for the broker, the chatty request and state-change loggers quieter
    private static final String LOG4J2_PROPERTIES = """
            status = warn
            appender.out.type = Console
            appender.out.name = out
            appender.out.layout.type = PatternLayout
            appender.out.layout.pattern = [%d] %p %m (%c)%n
            rootLogger.level = info
            rootLogger.appenderRef.out.ref = out
            logger.request.name = kafka.request.logger
            logger.request.level = warn
            logger.state.name = state.change.logger
            logger.state.level = warn
            logger.cleaner.name = kafka.log.LogCleaner
            logger.cleaner.level = warn
            """;
}
