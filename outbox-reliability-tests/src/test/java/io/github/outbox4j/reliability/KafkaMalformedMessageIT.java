package io.github.outbox4j.reliability;

/** Malformed messages on the test Kafka broker, a header name given twice and a key with NUL included. */
class KafkaMalformedMessageIT extends AbstractMalformedMessageIT {
    @Override
    protected BrokerFixture newBroker() {
        return new KafkaFixture();
    }
}
