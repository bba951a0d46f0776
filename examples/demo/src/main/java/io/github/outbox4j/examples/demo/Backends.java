package io.github.outbox4j.examples.demo;

import java.util.List;
import java.util.stream.Stream;

/**
 * Where the services' databases and broker are.
 *
 * @param databaseUrl JDBC URL of any database of a PostgreSQL ({@code jdbc:postgresql://host:port/name?...}) or
 *     MySQL/MariaDB ({@code jdbc:mysql://host:port/name?...}) server, credentials included: each service's database is
 *     created on that server and reached with the same URL, its database name replaced
 * @param broker the Kafka broker's {@code host:port}, or the RabbitMQ broker's {@code amqp://user:password@host:port}
 */
public record Backends(String databaseUrl, String broker) {

    /** The machine's own PostgreSQL and Kafka (profile {@code real}); {@code scripts/kafka.sh start} runs one. */
    static Backends localPostgresKafka() {
        return new Backends("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres", "127.0.0.1:9092");
    }

    /** The machine's own MySQL or MariaDB and RabbitMQ (profile {@code real-mysql-rabbitmq}). */
    static Backends localMysqlRabbitMq() {
        return new Backends("jdbc:mysql://127.0.0.1:3306/?user=root", "amqp://guest:guest@127.0.0.1:5672");
    }

    /** The URL of {@code database} on the same server. */
    String databaseUrl(String database) {
        return databaseUrl.replaceFirst("^(jdbc:[a-z]+://[^/?]+/)[^?]*", "$1" + database);
    }

    /** Whether the broker is RabbitMQ rather than Kafka. */
    boolean rabbitMq() {
        return broker.startsWith("amqp://") || broker.startsWith("amqps://");
    }

    /** The arguments that connect a service to its {@code database} and to the broker. */
    List<String> serviceArguments(String database) {
        Stream<String> storage = Stream.of(
                "--spring.datasource.url=" + databaseUrl(database),
                // the URL carries the credentials: no user name of the service's .yml may override them
                "--spring.datasource.username=",
                "--spring.sql.init.platform=" + Dialect.of(databaseUrl).platform());
        Stream<String> transport = rabbitMq()
                ? Stream.of("--outbox.transport=rabbitmq", "--spring.rabbitmq.addresses=" + broker)
                : Stream.of(
                        "--outbox.transport=kafka",
                        "--spring.kafka.bootstrap-servers=" + broker,
                        // Spring Boot's RabbitMQ support is on the class path too: no RabbitMQ to check here
                        "--management.health.rabbit.enabled=false");
        return Stream.concat(storage, transport).toList();
    }
}
