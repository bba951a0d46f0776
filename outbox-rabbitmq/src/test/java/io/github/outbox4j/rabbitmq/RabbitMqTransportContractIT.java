package io.github.outbox4j.rabbitmq;

import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testkit.OutboxTransportContract;
import io.github.outbox4j.testkit.RabbitMqBroker;
import io.github.outbox4j.testkit.TestServices;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;

/**
 * The transport contract — publish, broker, inbox, handler, on PostgreSQL — over the shared RabbitMQ broker.
 * Each test has its own exchange and queues, deleted afterwards; the outage test stops the broker with
 * {@code rabbitmqctl} (skipped when it cannot) and the broker is always started again; the frozen-broker test
 * freezes its node with SIGSTOP and always thaws it.
 */
class RabbitMqTransportContractIT extends OutboxTransportContract {
    private final RabbitMqTestSupport broker = new RabbitMqTestSupport();
    private final List<OutboxTransport> transports = new CopyOnWriteArrayList<>();
    private volatile boolean stopped;

    @AfterEach
    void restoreBrokerAndDeleteQueues() throws Exception {
        try {
            RabbitMqBroker.thaw();
            if (stopped) {
                RabbitMqBroker.startApp();
            }
        } finally {
            // before the contract closes its outboxes: a consumer whose queue vanished would declare it again
            transports.forEach(OutboxTransport::close);
            broker.deleteAll();
        }
    }

    @Override
    protected OutboxTransport newTransport() {
        RabbitMqOutboxTransport transport =
                RabbitMqTransportFactory.transport(TestServices.rabbitMqUri(), broker.exchange, broker.queuePrefix);
        OutboxTransport remembering = new QueueRemembering(transport);
        transports.add(remembering);
        return remembering;
    }

    @Override
    protected Class<? extends Supplier<OutboxTransport>> transportFactory() {
        return RabbitMqTransportFactory.class;
    }

    @Override
    protected List<String> transportFactoryProperties() {
        return RabbitMqTransportFactory.properties(TestServices.rabbitMqUri(), broker.exchange, broker.queuePrefix);
    }

    @Override
    protected void stopBroker() {
        RabbitMqBroker.assumeControllable();
        stopped = true;
        RabbitMqBroker.stopApp();
    }

    @Override
    protected void startBroker() {
        RabbitMqBroker.startApp();
        stopped = false;
    }

    @Override
    protected void freezeBroker() {
        RabbitMqBroker.assumeControllable();
        RabbitMqBroker.freeze();
    }

    @Override
    protected void thawBroker() {
        RabbitMqBroker.thaw();
    }

    @Override
    protected void sendRaw(String topic, String key, Map<String, String> headers, byte[] body) throws Exception {
        broker.admin(channel -> {
            channel.basicPublish(
                    broker.exchange,
                    topic,
                    new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                            .deliveryMode(2)
                            .headers(new HashMap<>(headers))
                            .build(),
                    body);
            return null;
        });
    }

    /** The transport, remembering each group's queue so that the test can delete it. */
    private final class QueueRemembering implements OutboxTransport {
        private final RabbitMqOutboxTransport delegate;

        QueueRemembering(RabbitMqOutboxTransport delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public void start() {
            delegate.start();
        }

        @Override
        public CompletionStage<Void> send(TransportMessage message) {
            return delegate.send(message);
        }

        @Override
        public void subscribe(Subscription subscription, InboundListener listener) {
            broker.queue(subscription.group());
            delegate.subscribe(subscription, listener);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
