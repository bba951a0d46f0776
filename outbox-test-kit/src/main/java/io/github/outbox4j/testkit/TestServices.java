package io.github.outbox4j.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.mysql.MySQLContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Where integration tests find the real database and brokers (DESIGN.md §7). For each service, in order:
 *
 * <ol>
 *   <li>its environment variable ({@value #POSTGRES_URL}, {@value #MYSQL_URL}, {@value #RABBITMQ_URI},
 *       {@value #KAFKA_BOOTSTRAP});
 *   <li>else, when a Docker engine is available, a Testcontainers container started once per JVM and left to
 *       Testcontainers' reaper;
 *   <li>else the calling test is skipped ({@link Assumptions#abort(String)}), or fails when
 *       {@value #REQUIRE_SERVICES}{@code =true} (as in CI), with a message naming the variable.
 * </ol>
 *
 * <p>A service given by its variable must answer on its port the first time it is asked for, or the test fails at
 * once naming the variable and the address, instead of waiting for a client's timeouts.
 *
 * <p>Thread-safe: services are located and pools created once, under a lock, then shared by every test of the
 * JVM. The pools live as long as the JVM; tests must not close them.
 */
public final class TestServices {
    /** JDBC URL of a PostgreSQL 12+ database, e.g. {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}. */
    public static final String POSTGRES_URL = "OUTBOX_TEST_POSTGRES_URL";
    /**
     * JDBC URL (MySQL Connector/J) of a MySQL 8.0.1+ or MariaDB 10.6+ database, e.g.
     * {@code jdbc:mysql://127.0.0.1:3306/test?user=root}.
     */
    public static final String MYSQL_URL = "OUTBOX_TEST_MYSQL_URL";
    /** AMQP URI of a RabbitMQ broker, e.g. {@code amqp://guest:guest@127.0.0.1:5672}. */
    public static final String RABBITMQ_URI = "OUTBOX_TEST_RABBITMQ_URI";
    /** Bootstrap servers of a Kafka broker, e.g. {@code 127.0.0.1:9092}. */
    public static final String KAFKA_BOOTSTRAP = "OUTBOX_TEST_KAFKA_BOOTSTRAP";
    /** When {@code true}, a service that cannot be found fails the test instead of skipping it. */
    public static final String REQUIRE_SERVICES = "OUTBOX_TEST_REQUIRE_SERVICES";

    private static final Logger log = LoggerFactory.getLogger(TestServices.class);

    // Small pools: the storage contract runs two claimers at once, the engine a few workers; 10 is plenty and
    // keeps several test JVMs within the databases' default connection limits.
    private static final int POOL_SIZE = 10;

    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;

    private static final Service POSTGRES = new Service(POSTGRES_URL, TestServices::startPostgres, "");
    private static final Service MYSQL = new Service(MYSQL_URL, TestServices::startMySql, "");
    private static final Service RABBITMQ = new Service(RABBITMQ_URI, TestServices::startRabbitMq, "");
    private static final Service KAFKA =
            new Service(KAFKA_BOOTSTRAP, TestServices::startKafka, " (a local broker: scripts/kafka.sh start)");

    private static HikariDataSource postgresPool;
    private static HikariDataSource mysqlPool;

    private TestServices() {}

    /** The JDBC URL of the test PostgreSQL database, credentials included. */
    public static String postgresUrl() {
        return POSTGRES.locate();
    }

    /** The JDBC URL (MySQL Connector/J) of the test MySQL or MariaDB database, credentials included. */
    public static String mysqlUrl() {
        return MYSQL.locate();
    }

    /** A pooled {@link DataSource} on {@link #postgresUrl()}, shared by the JVM's tests. */
    public static synchronized DataSource postgres() {
        if (postgresPool == null) {
            postgresPool = pool("outbox-test-postgres", postgresUrl());
        }
        return postgresPool;
    }

    /** A pooled {@link DataSource} on {@link #mysqlUrl()}, shared by the JVM's tests. */
    public static synchronized DataSource mysql() {
        if (mysqlPool == null) {
            mysqlPool = pool("outbox-test-mysql", mysqlUrl());
        }
        return mysqlPool;
    }

    /** The AMQP URI of the test RabbitMQ broker, credentials included. */
    public static String rabbitMqUri() {
        return RABBITMQ.locate();
    }

    /** The bootstrap servers of the test Kafka broker. */
    public static String kafkaBootstrap() {
        return KAFKA.locate();
    }

    /**
     * Decides where a service is; package-private so the decision is unit-tested without touching the real
     * environment.
     */
    static String locate(
            String variable, Map<String, String> environment, BooleanSupplier dockerAvailable, Supplier<String> start) {
        String configured = environment.get(variable);
        if (configured != null && !configured.isBlank()) {
            return configured.strip();
        }
        if (dockerAvailable.getAsBoolean()) {
            return start.get();
        }
        String missing = variable + " is not set and no Docker engine is available to start the service with"
                + " Testcontainers";
        if (Boolean.parseBoolean(environment.get(REQUIRE_SERVICES))) {
            return Assertions.fail(missing + "; " + REQUIRE_SERVICES + "=true, so this fails instead of skipping."
                    + " Set " + variable + " (see DESIGN.md §7).");
        }
        Assumptions.abort(missing + ": skipped. Set " + variable + " to run it.");
        throw new AssertionError("unreachable: Assumptions.abort returned");
    }

    /**
     * Fails naming {@code variable} when nothing accepts a connection at the first host and port of {@code
     * location}. A location whose address cannot be read (several hosts in a JDBC URL, say) is left to its client.
     */
    static void requireAnswering(String variable, String location, String hint) {
        InetSocketAddress address = address(location);
        if (address == null) {
            return;
        }
        try (Socket socket = new Socket()) {
            // resolved here, so that an unknown host fails like a closed port
            socket.connect(new InetSocketAddress(address.getHostString(), address.getPort()), CONNECT_TIMEOUT_MILLIS);
        } catch (IOException e) {
            Assertions.fail(variable + " is " + redact(location) + ", but nothing answers at " + address.getHostString()
                    + ":" + address.getPort() + " (" + e + "): start the service" + hint
                    + " or correct " + variable + ".");
        }
    }

    /**
     * The first host and port of a JDBC URL, an AMQP URI or Kafka bootstrap servers, with the service's default
     * port where none is given; {@code null} if it cannot be read.
     */
    static InetSocketAddress address(String location) {
        try {
            if (location.startsWith("jdbc:") || location.startsWith("amqp")) {
                URI uri = URI.create(location.startsWith("jdbc:") ? location.substring(5) : location);
                if (uri.getHost() == null) {
                    return null;
                }
                int port = uri.getPort() != -1 ? uri.getPort() : defaultPort(uri.getScheme());
                return port == -1 ? null : InetSocketAddress.createUnresolved(uri.getHost(), port);
            }
            String first = location.split(",")[0].strip();
            int colon = first.lastIndexOf(':');
            return colon < 1
                    ? null
                    : InetSocketAddress.createUnresolved(
                            first.substring(0, colon), Integer.parseInt(first.substring(colon + 1)));
        } catch (IllegalArgumentException e) { // includes NumberFormatException
            return null;
        }
    }

    private static int defaultPort(String scheme) {
        return switch (scheme) {
            case "postgresql" -> 5432;
            case "mysql", "mariadb" -> 3306;
            case "amqp" -> 5672;
            case "amqps" -> 5671;
            default -> -1;
        };
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            // a broken or half-configured Docker setup must skip (or fail) the test like a missing one, not crash
            log.debug("Docker availability check failed", e);
            return false;
        }
    }

    private static HikariDataSource pool(String name, String url) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(10_000);
        return new HikariDataSource(config);
    }

    private static String startPostgres() {
        PostgreSQLContainer container = new PostgreSQLContainer("postgres:17-alpine");
        container.start();
        return withCredentials(container.getJdbcUrl(), container.getUsername(), container.getPassword());
    }

    private static String startMySql() {
        MySQLContainer container = new MySQLContainer("mysql:8.4");
        container.start();
        return withCredentials(container.getJdbcUrl(), container.getUsername(), container.getPassword());
    }

    private static String startRabbitMq() {
        RabbitMQContainer container = new RabbitMQContainer("rabbitmq:4.1-management-alpine");
        container.start();
        return "amqp://" + container.getAdminUsername() + ":" + container.getAdminPassword() + "@" + container.getHost()
                + ":" + container.getAmqpPort();
    }

    private static String startKafka() {
        KafkaContainer container = new KafkaContainer("apache/kafka:4.1.0");
        container.start();
        return container.getBootstrapServers();
    }

    private static String withCredentials(String jdbcUrl, String user, String password) {
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "user=" + user + "&password=" + password;
    }

    /** One service: located at most once successfully, then remembered. */
    private static final class Service {
        private final String variable;
        private final Supplier<String> start;
        private final String hint;
        private String location;

        Service(String variable, Supplier<String> start, String hint) {
            this.variable = variable;
            this.start = start;
            this.hint = hint;
        }

        synchronized String locate() {
            if (location == null) {
                // not remembered when it skips or fails: each test then reports the missing variable itself
                String located = TestServices.locate(variable, System.getenv(), TestServices::dockerAvailable, start);
                requireAnswering(variable, located, hint);
                location = located;
                log.info("{}: using {}", variable, redact(location));
            }
            return location;
        }
    }

    private static String redact(String location) {
        return location.replaceAll("password=[^&]*", "password=***").replaceAll("//([^:/@]+):[^@/]*@", "//$1:***@");
    }
}
