package io.github.outbox4j.benchmarks;

import io.github.outbox4j.spi.StorageOptions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The names one run uses, with a random suffix so that runs (and other builds on the same database and broker) never
 * meet: outbox and inbox tables, the business table, the topic, the consumer group, the RabbitMQ exchange and the
 * RabbitMQ queue that takes the topic's messages where no consumer does.
 */
record RunNames(
        String published,
        String received,
        String orders,
        String topic,
        String group,
        String exchange,
        String sinkQueue) {

    static RunNames unique() {
        String suffix = "%08x".formatted(ThreadLocalRandom.current().nextInt());
        return new RunNames(
                "bench_published_" + suffix,
                "bench_received_" + suffix,
                "bench_orders_" + suffix,
                "bench.order.paid." + suffix,
                "bench-group-" + suffix,
                "bench.router." + suffix,
                "bench-sink-" + suffix);
    }

    StorageOptions storageOptions() {
        return StorageOptions.builder()
                .publishedTable(published)
                .receivedTable(received)
                .build();
    }
}
