package io.github.outbox4j.kafka;

import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.TestServices;

/**
 * The broker this module's tests start themselves: one per JVM, since failsafe runs the test classes one after
 * the other and starting a broker costs seconds. The tests that stop and restart a broker always use it (never
 * a configured one, which other tests may be using); the others use it only when {@value
 * TestServices#KAFKA_BOOTSTRAP} names no broker. Its shutdown hook removes it when the JVM exits.
 */
final class RestartableBroker {
    private static KafkaBroker broker;

    private RestartableBroker() {}

    /** The broker, running (started again if a test left it stopped). */
    static synchronized KafkaBroker get() {
        if (broker == null) {
            broker = KafkaBroker.create();
        }
        return broker.start();
    }

    /** {@value TestServices#KAFKA_BOOTSTRAP} when set, else this JVM's own broker. */
    static String configuredOrOwn() {
        String configured = System.getenv(TestServices.KAFKA_BOOTSTRAP);
        if (configured != null && !configured.isBlank()) {
            return TestServices.kafkaBootstrap();
        }
        return get().bootstrapServers();
    }
}
