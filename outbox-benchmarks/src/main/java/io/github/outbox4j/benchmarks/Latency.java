package io.github.outbox4j.benchmarks;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.benchmarks.Workload.OrderPaid;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Item 2: latency at a steady rate (1,000 messages a second by default), open loop. Each transaction carries the time
 * it was scheduled; the benchmark notes when its commit returned. The broker's acknowledgment (the send's completion
 * in the transport) and the consumer handler's call, in the same process through the inbox, are timed from both.
 */
final class Latency {
    static final int CONSUMERS = 2;
    private static final Duration SETTLE_DEADLINE = Duration.ofSeconds(120);

    /** Percentiles in milliseconds. */
    record Percentiles(double p50, double p99, double p999, double max, long count) {
        static Percentiles of(Histogram histogram) {
            if (histogram.getTotalCount() == 0) {
                return new Percentiles(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
            }
            return new Percentiles(
                    histogram.getValueAtPercentile(50) / 1000.0,
                    histogram.getValueAtPercentile(99) / 1000.0,
                    histogram.getValueAtPercentile(99.9) / 1000.0,
                    histogram.getMaxValue() / 1000.0,
                    histogram.getTotalCount());
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT, "p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms (n=%d)", p50, p99, p999, max, count);
        }
    }

    record Result(
            Percentiles ackFromCommit,
            Percentiles ackFromIntended,
            Percentiles handlerFromCommit,
            Percentiles handlerFromIntended,
            Percentiles observedSent,
            Percentiles observedHandled,
            double achievedRate,
            String storageTime) {

        String describe() {
            return String.format(
                    Locale.ROOT,
                    "achieved %.0f tx/s%n      ack from commit      %s%n      ack from schedule    %s%n"
                            + "      handler from commit  %s%n      handler from schedule %s%n"
                            + "      OutboxObserver.sent (insert -> ack) %s%n"
                            + "      OutboxObserver.handled (inbox insert -> handler commit) %s%n"
                            + "      engine's storage calls: %s",
                    achievedRate,
                    ackFromCommit,
                    ackFromIntended,
                    handlerFromCommit,
                    handlerFromIntended,
                    observedSent,
                    observedHandled,
                    storageTime);
        }
    }

    private Latency() {}

    static Result measure(Run run) {
        BenchConfig config = run.config();
        Workload workload = run.workload();
        String topic = run.newTopic(config.latencyConsumers());
        LatencyProbe probe = new LatencyProbe();
        LongAdder handledAll = new LongAdder();
        MeasuredTransport transport = run.transport();
        TimedStorage storage = run.timedStorage();
        transport.onAcknowledged(message -> probe.acknowledged(message.id(), message.headers()));
        try (Outbox outbox = run.outbox(transport, storage).observer(probe).build()) {
            // without consumers (bench.latency.consumers=false) the acknowledgments are timed alone, without the
            // consumers' work competing for the same CPU
            boolean consumers = config.latencyConsumers();
            if (consumers) {
                outbox.subscribe(
                        topic,
                        run.names().group(),
                        OrderPaid.class,
                        CONSUMERS,
                        (OrderPaid payload, ReceivedMessage message) -> {
                            probe.handled(message.id(), message.headers());
                            handledAll.increment();
                            return null;
                        });
            }
            outbox.start();
            if (consumers) {
                awaitConsumers(outbox, run, topic, handledAll);
            }

            Load.Transaction transaction = intended -> workload.pay(
                    run.dataSource(),
                    outbox,
                    topic,
                    Map.of(LatencyProbe.INTENDED, Long.toString(intended)),
                    id -> probe.committed(id, System.nanoTime()));
            try (Load.OpenLoop loop = new Load.OpenLoop(config.clients())) {
                Load.OpenLoop.Window window = loop.warmUpThenMeasure(
                        config.latencyRate(),
                        config.warmUp(),
                        config.window(),
                        transaction,
                        () -> probe.measureFrom(System.nanoTime()),
                        SETTLE_DEADLINE);
                long measured = window.scheduled();
                if (!Await.until(
                        () -> probe.acknowledgedCount() >= measured && (!consumers || probe.handledCount() >= measured),
                        SETTLE_DEADLINE)) {
                    Log.detail("not every message arrived: acknowledged " + probe.acknowledgedCount() + ", handled "
                            + probe.handledCount() + " of " + measured);
                }
                return new Result(
                        Percentiles.of(probe.ackFromCommit),
                        Percentiles.of(probe.ackFromIntended),
                        Percentiles.of(probe.handlerFromCommit),
                        Percentiles.of(probe.handlerFromIntended),
                        Percentiles.of(probe.observedSent),
                        Percentiles.of(probe.observedHandled),
                        Math.min(window.achievedRate(), config.latencyRate()),
                        storage.describe());
            }
        }
    }

    /**
     * Publishes one message and waits until the handler has it: the consumers have joined their group and the topic
     * exists, so the measured window holds no start-up.
     */
    static void awaitConsumers(Outbox outbox, Run run, String topic, LongAdder handled) {
        long before = handled.sum();
        outbox.inTransaction((connection, publisher) ->
                publisher.publish(run.workload().message(topic, run.workload().nextOrderId(), Map.of())));
        Await.require(() -> handled.sum() > before, Duration.ofSeconds(90), "the consumers' first message");
    }
}
