package io.github.outbox4j.examples.demo;

/**
 * Where the services' databases and broker are.
 *
 * @param postgresUrl JDBC URL of any database of the PostgreSQL server, credentials included: each service's
 *     database is created on that server and reached with the same URL, its database name replaced
 * @param kafkaBootstrap the Kafka broker's {@code host:port}
 */
public record Backends(String postgresUrl, String kafkaBootstrap) {

    /** The machine's own PostgreSQL and Kafka (profile {@code real}); {@code scripts/kafka.sh start} runs one. */
    static Backends local() {
        return new Backends("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres", "127.0.0.1:9092");
    }

    /** The URL of {@code database} on the same server. */
    String postgresUrl(String database) {
        return postgresUrl.replaceFirst("^(jdbc:postgresql://[^/?]+/)[^?]*", "$1" + database);
    }
}
