package io.github.outbox4j.reliability;

/**
 * Malformed messages on the test RabbitMQ broker. An AMQP header table names each header once, so a header given
 * twice cannot arrive here.
 */
class RabbitMqMalformedMessageIT extends AbstractMalformedMessageIT {
    @Override
    protected BrokerFixture newBroker() {
        return new RabbitMqFixture();
    }
}
