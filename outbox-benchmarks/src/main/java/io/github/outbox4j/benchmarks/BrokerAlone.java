package io.github.outbox4j.benchmarks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.github.outbox4j.benchmarks.Latency.Percentiles;
import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The broker alone, without a database and without the library: item 2's schedule (the same rate, open loop, the
 * same client threads), each message sent with the broker's own Java client the moment its turn comes, and received
 * by consumers of its own in the same JVM. It is the floor under item 2 on the machine of the run: what the broker
 * and its clients take for the same messages before any outbox work.
 *
 * <p>Kafka: a producer with the settings the transport uses ({@code acks=all}, idempotence, {@code linger.ms=1}),
 * and {@value Latency#CONSUMERS} consumers of one group that commit their offsets synchronously after each poll, as
 * a consumer that must not lose a message does. RabbitMQ: persistent messages on one confirm channel, confirms
 * awaited asynchronously (never more than a few in flight at this rate), to the run's exchange and the group's
 * durable queue, the topic's only one (declared with {@code bench.rabbitmq.queue-arguments});
 * {@value Latency#CONSUMERS} consumers on it with the transport's prefetch, each delivery acked on its own.
 */
final class BrokerAlone {
    private static final Duration SETTLE_DEADLINE = Duration.ofSeconds(60);

    record Result(
            Percentiles ackFromSend, Percentiles consumerFromSend, Percentiles ackFromIntended, double achievedRate) {
        String describe() {
            return String.format(
                    Locale.ROOT,
                    "achieved %.0f msg/s%n      ack from send        %s%n      consumer from send   %s%n"
                            + "      ack from schedule    %s",
                    achievedRate,
                    ackFromSend,
                    consumerFromSend,
                    ackFromIntended);
        }
    }

    /** One broker's client: sends a message and reports its acknowledgment and its arrival to the probe. */
    private interface Client extends AutoCloseable {
        void send(String id, Map<String, String> headers, byte[] body) throws Exception;

        @Override
        void close() throws Exception;
    }

    private BrokerAlone() {}

    static Result measure(Run run) {
        String topic = run.newTopic(true);
        LatencyProbe probe = new LatencyProbe();
        LongAdder consumed = new LongAdder();
        try (Client client = run.stack() == Stack.POSTGRES_KAFKA
                ? kafka(run, topic, probe, consumed)
                : rabbitMq(run, topic, probe, consumed)) {
            return measure(run, client, probe, consumed);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(run.stack().broker() + " alone failed: " + e, e);
        }
    }

    private static Result measure(Run run, Client client, LatencyProbe probe, LongAdder consumed) throws Exception {
        BenchConfig config = run.config();
        AtomicLong ids = new AtomicLong();
        // the consumers have joined and the topic exists before anything is timed
        client.send("first", Map.of(LatencyProbe.INTENDED, "0"), body(0));
        Await.require(() -> consumed.sum() > 0, Duration.ofSeconds(90), "the consumers' first message");
        Load.Transaction send = intended -> {
            long n = ids.incrementAndGet();
            String id = "m-" + n;
            Map<String, String> headers = Map.of(LatencyProbe.INTENDED, Long.toString(intended));
            byte[] body = body(n);
            probe.committed(id, System.nanoTime());
            client.send(id, headers, body);
        };
        try (Load.OpenLoop loop = new Load.OpenLoop(config.clients())) {
            Load.OpenLoop.Window window = loop.warmUpThenMeasure(
                    config.latencyRate(),
                    config.warmUp(),
                    config.window(),
                    send,
                    () -> probe.measureFrom(System.nanoTime()),
                    SETTLE_DEADLINE);
            long measured = window.scheduled();
            if (!Await.until(
                    () -> probe.acknowledgedCount() >= measured && probe.handledCount() >= measured, SETTLE_DEADLINE)) {
                throw new IllegalStateException("not every message arrived: acknowledged " + probe.acknowledgedCount()
                        + ", consumed " + probe.handledCount() + " of " + measured);
            }
            return new Result(
                    Percentiles.of(probe.ackFromCommit),
                    Percentiles.of(probe.handlerFromCommit),
                    Percentiles.of(probe.ackFromIntended),
                    Math.min(window.achievedRate(), config.latencyRate()));
        }
    }

    /** The size of the library's messages in the other scenarios: the same four-field JSON record. */
    private static byte[] body(long orderId) {
        return ("{\"orderId\":" + orderId + ",\"amountCents\":1999,\"sku\":\"sku-1\",\"quantity\":2}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static Client kafka(Run run, String topic, LatencyProbe probe, LongAdder consumed) {
        BenchConfig config = run.config();
        Map<String, Object> producerConfig = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                ProducerConfig.LINGER_MS_CONFIG, "1");
        KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> consumerFailure = new AtomicReference<>();
        List<Thread> consumers = new ArrayList<>();
        for (int i = 0; i < Latency.CONSUMERS; i++) {
            Thread thread = new Thread(
                    () -> consume(config, run.names().group(), topic, probe, consumed, running, consumerFailure),
                    "bench-kafka-consumer-" + i);
            thread.setDaemon(true);
            thread.start();
            consumers.add(thread);
        }
        return new Client() {
            @Override
            public void send(String id, Map<String, String> headers, byte[] body) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, id, body);
                headers.forEach((name, value) -> record.headers().add(name, value.getBytes(StandardCharsets.UTF_8)));
                producer.send(record, (metadata, e) -> {
                    if (e == null) {
                        probe.acknowledged(id, headers);
                    } else {
                        Log.detail("Kafka send of " + id + " failed: " + e);
                    }
                });
            }

            @Override
            public void close() throws InterruptedException {
                producer.close(Duration.ofSeconds(10));
                running.set(false);
                for (Thread consumer : consumers) {
                    consumer.join(Duration.ofSeconds(10).toMillis());
                }
                if (consumerFailure.get() != null) {
                    throw new IllegalStateException(
                            "a Kafka consumer failed: " + consumerFailure.get(), consumerFailure.get());
                }
            }
        };
    }

    private static void consume(
            BenchConfig config,
            String group,
            String topic,
            LatencyProbe probe,
            LongAdder consumed,
            AtomicBoolean running,
            AtomicReference<Throwable> failure) {
        Map<String, Object> consumerConfig = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                config.kafkaBootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG,
                group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                "false");
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (running.get()) {
                var records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<String, byte[]> record : records) {
                    Map<String, String> headers = new HashMap<>();
                    for (Header header : record.headers()) {
                        headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
                    }
                    probe.handled(record.key(), headers);
                    consumed.increment();
                }
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static Client rabbitMq(Run run, String topic, LatencyProbe probe, LongAdder consumed) throws Exception {
        BenchConfig config = run.config();
        RunNames names = run.names();
        Map<String, Object> queueArguments = Stack.rabbitMqQueueArguments(config);
        Connection publisherConnection = Stack.rabbitMq(config).newConnection("outbox4j-benchmarks-alone-publisher");
        Connection consumerConnection;
        try {
            consumerConnection = Stack.rabbitMq(config).newConnection("outbox4j-benchmarks-alone-consumer");
        } catch (IOException | RuntimeException e) {
            publisherConnection.close();
            throw e;
        }
        // both connections close with the client, also if what follows fails
        Client client = rabbitMqClient(names, topic, probe, publisherConnection, consumerConnection);
        try {
            consumeRabbitMq(names, topic, queueArguments, probe, consumed, consumerConnection);
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private static void consumeRabbitMq(
            RunNames names,
            String topic,
            Map<String, Object> queueArguments,
            LatencyProbe probe,
            LongAdder consumed,
            Connection consumerConnection)
            throws IOException {
        for (int i = 0; i < Latency.CONSUMERS; i++) {
            Channel channel = consumerConnection.createChannel();
            channel.queueDeclare(names.group(), true, false, false, queueArguments);
            channel.queueBind(names.group(), names.exchange(), topic);
            channel.basicQos(RabbitMqOutboxTransport.DEFAULT_PREFETCH);
            channel.basicConsume(names.group(), false, new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(
                        String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
                        throws IOException {
                    Map<String, String> headers = new HashMap<>();
                    properties.getHeaders().forEach((name, value) -> headers.put(name, value.toString()));
                    probe.handled(properties.getMessageId(), headers);
                    consumed.increment();
                    getChannel().basicAck(envelope.getDeliveryTag(), false);
                }
            });
        }
    }

    private static Client rabbitMqClient(
            RunNames names,
            String topic,
            LatencyProbe probe,
            Connection publisherConnection,
            Connection consumerConnection)
            throws IOException {
        Channel publisher = publisherConnection.createChannel();
        publisher.confirmSelect();
        record Unconfirmed(String id, Map<String, String> headers) {}
        ConcurrentNavigableMap<Long, Unconfirmed> unconfirmed = new ConcurrentSkipListMap<>();
        LongAdder nacked = new LongAdder();
        publisher.addConfirmListener(
                (sequence, multiple) -> {
                    var confirmed = multiple
                            ? unconfirmed.headMap(sequence, true)
                            : unconfirmed.subMap(sequence, true, sequence, true);
                    confirmed.values().forEach(message -> probe.acknowledged(message.id(), message.headers()));
                    confirmed.clear();
                },
                (sequence, multiple) -> {
                    var refused = multiple
                            ? unconfirmed.headMap(sequence, true)
                            : unconfirmed.subMap(sequence, true, sequence, true);
                    nacked.add(refused.size());
                    refused.clear();
                    Log.detail("RabbitMQ nacked up to " + sequence + ", " + nacked.sum() + " in all");
                });
        return new Client() {
            @Override
            public void send(String id, Map<String, String> headers, byte[] body) throws IOException {
                AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                        .deliveryMode(2) // persistent
                        .contentType("application/json")
                        .messageId(id)
                        .headers(new HashMap<>(headers))
                        .build();
                // one channel's publishes and their sequence numbers must not interleave
                synchronized (publisher) {
                    unconfirmed.put(publisher.getNextPublishSeqNo(), new Unconfirmed(id, headers));
                    publisher.basicPublish(names.exchange(), topic, properties, body);
                }
            }

            @Override
            public void close() throws IOException {
                publisherConnection.close();
                consumerConnection.close();
            }
        };
    }
}
