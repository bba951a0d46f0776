package io.github.outbox4j.benchmarks;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.memory.InMemoryTransport;
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
 *
 * <p>With {@code bench.overhead.parts=true} the plain Java variant is also measured in two parts of the whole: with
 * the outbox not started (the publish in the transaction alone, nothing dispatched), and started with an in-memory
 * transport (dispatch and outcome writes, no broker). What the whole loses against the hand-written rows then splits
 * into the publish itself, the engine's work after commit, and the broker's.
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
            long springNotDispatched,
            Parts parts) {

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
                            springNotDispatched)
                    + (parts == null ? "" : "; " + parts.describe());
        }
    }

    /** The plain Java outbox variant without dispatch, and with dispatch to an in-memory transport. */
    record Parts(double notStarted, double inMemoryTransport) {
        String describe() {
            return String.format(
                    java.util.Locale.ROOT,
                    "plain parts: outbox not started %.0f tx/s, with an in-memory transport %.0f tx/s",
                    notStarted,
                    inMemoryTransport);
        }
    }

    private PublishOverhead() {}

    static Result measure(Run run) {
        BenchConfig config = run.config();
        Workload workload = run.workload();

        Log.detail("plain Java, hand-written rows");
        double plainHandWritten = Load.closedLoop(
                config.clients(), config.warmUp(), config.window(), intended -> workload.payByHand(run.dataSource()));

        Log.detail("plain Java, Outbox.publisher(Connection)");
        Dispatched plain = publishThroughStartedOutbox(run, run.transport());
        Parts parts = config.overheadParts() ? measureParts(run) : null;

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
                    config.warmUp(),
                    config.window(),
                    intended -> handWritten.pay(workload.nextOrderId()));
            Log.detail("Spring Boot, @TransactionalPublish");
            LongAdder springPublished = new LongAdder();
            springOutbox = Load.closedLoop(config.clients(), config.warmUp(), config.window(), intended -> {
                payments.pay(workload.nextOrderId());
                springPublished.increment();
            });
            springNotDispatched = awaitSent(acknowledgments.count::sum, springPublished.sum());
        }
        return new Result(
                plainHandWritten,
                plain.rate(),
                springHandWritten,
                springOutbox,
                plain.notDispatched(),
                springNotDispatched,
                parts);
    }

    private static Parts measureParts(Run run) {
        BenchConfig config = run.config();
        Workload workload = run.workload();
        Log.detail("plain Java, Outbox.publisher(Connection), outbox not started");
        double notStarted;
        try (Outbox outbox = run.outbox(run.transport()).build()) {
            notStarted = Load.closedLoop(
                    config.clients(),
                    config.warmUp(),
                    config.window(),
                    intended ->
                            workload.pay(run.dataSource(), outbox, run.names().topic(), Map.of(), id -> {}));
        }
        // never dispatched: left, they would be due for the next measurement's retry processor
        run.execute("DELETE FROM " + run.names().published() + " WHERE status = 'PENDING'");

        Log.detail("plain Java, Outbox.publisher(Connection), in-memory transport");
        Dispatched inMemory = publishThroughStartedOutbox(run, new MeasuredTransport(new InMemoryTransport()));
        return new Parts(notStarted, inMemory.rate());
    }

    /** Transactions per second of a started outbox's publishes, and how many of them it did not dispatch. */
    private record Dispatched(double rate, long notDispatched) {}

    private static Dispatched publishThroughStartedOutbox(Run run, MeasuredTransport transport) {
        BenchConfig config = run.config();
        LongAdder published = new LongAdder();
        try (Outbox outbox = run.outbox(transport).build()) {
            outbox.start();
            double rate = Load.closedLoop(
                    config.clients(),
                    config.warmUp(),
                    config.window(),
                    intended -> run.workload()
                            .pay(run.dataSource(), outbox, run.names().topic(), Map.of(), id -> published.increment()));
            return new Dispatched(rate, awaitSent(transport::acknowledged, published.sum()));
        }
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
