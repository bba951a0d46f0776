package io.github.outbox4j.reliability;

import java.util.Map;

/**
 * Oversized messages on the test Kafka broker: the test's topic takes records of at most 16 KiB ({@code
 * max.message.bytes}), so a 40 KB message is refused by the broker with {@code RecordTooLargeException}.
 */
class KafkaOversizedMessageIT extends AbstractOversizedMessageIT {
    @Override
    protected BrokerFixture brokerWithLimit(String topic) throws Exception {
        KafkaFixture kafka = new KafkaFixture();
        kafka.createTopic(topic, Map.of("max.message.bytes", Integer.toString(16 * 1024)));
        return kafka;
    }

    @Override
    protected int refusedPayloadSize() {
        return 40_000;
    }
}
