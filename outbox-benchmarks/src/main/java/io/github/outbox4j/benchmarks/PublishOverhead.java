package io.github.outbox4j.benchmarks;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Item 1: business transactions per second with one publish each, the engine running and sending everything to the
 * broker, divided by the same transaction with the outbox row written by hand and nothing sent. Measured twice: in
 * plain Java ({@code Outbox.publisher(Connection)} against two JDBC inserts) and in a Spring Boot application
 * ({@code @TransactionalPublish} against a {@code @Transactional} method with two {@code JdbcTemplate} inserts).
 */
final class PublishOverhead {
    /**
     * How long the dispatcher gets, after a measurement, to have everything acknowledged. What it did not send by then
     * it had no room for (its queue was full): the retry processor sends those rows after the first delay.
     */
    private static final Duration SEND_DEADLINE = Duration.ofSeconds(20);

    /** Transactions per second of each variant, and how much of what was published the broker had acknowledged. */
    record Result(
            double plainHandWritten,
            double plainOutbox,
            double springHandWritten,
            double springOutbox,
            long plainNotDispatched,
            long springNotDispatched) {

        double plainRatio() {
            return plainOutbox / plainHandWritten;
        }

        double springRatio() {
            return springOutbox / springHandWritten;
        }

        String describe() {
            return String.format(
                    java.util.Locale.ROOT,
                    "plain: hand-written %.0f tx/s, outbox %.0f tx/s, ratio %.2f (not dispatched %d); spring:"
                            + " hand-written %.0f tx/s, outbox %.0f tx/s, ratio %.2f (not dispatched %d)",
                    plainHandWritten,
                    plainOutbox,
                    plainRatio(),
                    plainNotDispatched,
                    springHandWritten,
                    springOutbox,
                    springRatio(),
                    springNotDispatched);
        }
    }

    private PublishOverhead() {}

    static Result measure(Run run) {
        BenchConfig config = run.config();
        Workload workload = run.workload();

        Log.detail("plain Java, hand-written rows");
        double plainHandWritten = Load.closedLoop(
                config.clients(), config.warmup(), config.window(), intended -> workload.payByHand(run.dataSource()));

        Log.detail("plain Java, Outbox.publisher(Connection)");
        double plainOutbox;
        long plainNotDispatched;
        MeasuredTransport transport = run.transport();
        LongAdder published = new LongAdder();
        try (Outbox outbox = run.outbox(transport).build()) {
            outbox.start();
            plainOutbox = Load.closedLoop(
                    config.clients(),
                    config.warmup(),
                    config.window(),
                    intended -> workload.pay(
                            run.dataSource(), outbox, run.names().topic(), Map.of(), id -> published.increment()));
            plainNotDispatched = awaitSent(transport::acknowledged, published.sum());
        }

        Acknowledgments acknowledgments = new Acknowledgments();
        double springHandWritten;
        double springOutbox;
        long springNotDispatched;
        try (ConfigurableApplicationContext context = SpringPublishApp.start(run, acknowledgments)) {
            SpringPublishApp.HandWrittenPayments handWritten =
                    context.getBean(SpringPublishApp.HandWrittenPayments.class);
            SpringPublishApp.Payments payments = context.getBean(SpringPublishApp.Payments.class);
            Log.detail("Spring Boot, @Transactional with hand-written rows");
            springHandWritten = Load.closedLoop(
                    config.clients(),
                    config.warmup(),
                    config.window(),
                    intended -> handWritten.pay(workload.nextOrderId()));
            Log.detail("Spring Boot, @TransactionalPublish");
            LongAdder springPublished = new LongAdder();
            springOutbox = Load.closedLoop(config.clients(), config.warmup(), config.window(), intended -> {
                payments.pay(workload.nextOrderId());
                springPublished.increment();
            });
            springNotDispatched = awaitSent(acknowledgments.count::sum, springPublished.sum());
        }
        return new Result(
                plainHandWritten,
                plainOutbox,
                springHandWritten,
                springOutbox,
                plainNotDispatched,
                springNotDispatched);
    }

    /**
     * Waits for the broker to acknowledge what was published, so that the next measurement starts on an idle engine,
     * and returns how many messages it did not: those the dispatcher had no room for.
     */
    private static long awaitSent(LongSupplier acknowledged, long published) {
        Await.until(() -> acknowledged.getAsLong() >= published, SEND_DEADLINE);
        return Math.max(0, published - acknowledged.getAsLong());
    }

    /** Counts what the engine reports as acknowledged by the broker. */
    static final class Acknowledgments implements OutboxObserver {
        final LongAdder count = new LongAdder();

        @Override
        public void sent(String topic, Duration sinceAdded) {
            count.increment();
        }
    }
}
