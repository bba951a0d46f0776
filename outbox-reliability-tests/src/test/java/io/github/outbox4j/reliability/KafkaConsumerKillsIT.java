package io.github.outbox4j.reliability;

/**
 * Consumer processes killed under load on the test Kafka broker. A killed member keeps its partitions until its
 * session times out (6 s here), so each kill also stalls its group for that long.
 */
class KafkaConsumerKillsIT extends AbstractConsumerKillsIT {
    @Override
    protected BrokerFixture newBroker() {
        return new KafkaFixture();
    }
}
