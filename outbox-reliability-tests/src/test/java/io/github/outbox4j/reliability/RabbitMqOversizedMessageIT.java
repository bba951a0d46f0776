package io.github.outbox4j.reliability;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Oversized messages on a RabbitMQ node of the test's own whose {@code max_message_size} is 64 KiB: the broker
 * closes the publishing channel on a 100 KB message (406 PRECONDITION_FAILED), which also fails the other sends
 * in flight on that channel; those are retried, the big one is FAILED.
 */
class RabbitMqOversizedMessageIT extends AbstractOversizedMessageIT {
    private static PrivateRabbitMq node;

    @BeforeAll
    static void startNode() throws Exception {
        node = PrivateRabbitMq.launch(64 * 1024);
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @Override
    protected BrokerFixture brokerWithLimit(String topic) {
        return new RabbitMqFixture(node.uri());
    }

    @Override
    protected int refusedPayloadSize() {
        return 100_000;
    }
}
