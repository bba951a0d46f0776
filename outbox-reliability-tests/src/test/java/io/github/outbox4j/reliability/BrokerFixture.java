package io.github.outbox4j.reliability;

import io.github.outbox4j.spi.OutboxTransport;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * The real broker a reliability test runs on: transports for this JVM and for child processes, and raw sends past
 * the outbox, as a foreign or broken producer would make them. Each fixture uses names of its own and removes what
 * it created when closed.
 */
interface BrokerFixture extends AutoCloseable {

    /** One header of a raw message: any bytes, and a name that may repeat where the broker allows it. */
    record RawHeader(String name, byte[] value) {
        static RawHeader text(String name, String value) {
            return new RawHeader(name, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The broker's name, for summaries. */
    String name();

    /** A new transport to this broker, for an outbox of this JVM. */
    OutboxTransport newTransport();

    /** A class with a no-argument constructor making the same transport in another JVM. */
    Class<? extends Supplier<OutboxTransport>> transportFactory();

    /** The system properties ({@code -Dname=value}) the other JVM needs for {@link #transportFactory()}. */
    List<String> transportFactoryProperties();

    /** Tells the fixture that {@code group} will consume, so that {@link #close()} removes what it leaves. */
    default void groupWillSubscribe(String group) {}

    /** Makes {@code topic} exist before anything is published to it or consumed from it. */
    default void createTopic(String topic) throws Exception {}

    /** Sends one message straight to the broker, past the outbox. */
    void sendRaw(String topic, String key, List<RawHeader> headers, byte[] body) throws Exception;

    /** Whether a message may carry the same header name twice (Kafka: yes; AMQP's header table: no). */
    boolean allowsRepeatedHeaders();

    /** Removes what the fixture created on the broker. */
    @Override
    void close() throws Exception;
}
