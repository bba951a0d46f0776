package io.github.outbox4j.reliability;

/**
 * Consumer processes killed under load on the test RabbitMQ broker: the broker requeues a killed consumer's
 * unacknowledged deliveries as soon as its connection drops.
 */
class RabbitMqConsumerKillsIT extends AbstractConsumerKillsIT {
    @Override
    protected BrokerFixture newBroker() {
        return new RabbitMqFixture();
    }
}
