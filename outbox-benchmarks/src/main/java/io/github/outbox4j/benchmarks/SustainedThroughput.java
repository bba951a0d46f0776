package io.github.outbox4j.benchmarks;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.benchmarks.Workload.OrderPaid;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Item 4: the highest offered rate that the system keeps up with. The rate, in messages per second, steps up (open
 * loop, {@code bench.sustained.rates}); each transaction publishes {@code bench.sustained.messages-per-transaction}
 * messages, so that the publishers' own commit rate need not bound what the outbox is offered. At each step the
 * backlog — messages scheduled but not yet done, where done means acknowledged by the broker (publish only) or
 * handled by the consumer (end to end) — is sampled every second. A step is sustained when the backlog at its end is
 * under one second's worth of messages and did not grow by more than 5 % of the rate per second over the step's
 * second half. The first step that is not ends the search. Of the backlog, the part not yet committed is reported
 * apart: it grows when the publishers, not the outbox, fall behind.
 */
final class SustainedThroughput {
    private static final Duration DRAIN_BETWEEN_STEPS = Duration.ofSeconds(30);

    record Step(
            int rate,
            double committedRate,
            double doneRate,
            long backlog,
            long uncommitted,
            double slope,
            boolean sustained) {
        String describe() {
            return String.format(
                    Locale.ROOT,
                    "offered %d/s: committed %.0f/s, done %.0f/s, backlog at end %d (not yet committed %d),"
                            + " growth %.0f/s -> %s",
                    rate,
                    committedRate,
                    doneRate,
                    backlog,
                    uncommitted,
                    slope,
                    sustained ? "sustained" : "NOT sustained");
        }
    }

    record Result(int highestSustained, List<Step> steps) {
        String describeSteps(String variant) {
            StringBuilder text = new StringBuilder();
            steps.forEach(step -> text.append(System.lineSeparator())
                    .append("      ")
                    .append(variant)
                    .append(", ")
                    .append(step.describe()));
            return text.toString();
        }
    }

    private SustainedThroughput() {}

    static Result measure(Run run, boolean endToEnd) {
        BenchConfig config = run.config();
        Workload workload = run.workload();
        String topic = run.newTopic(endToEnd);
        MeasuredTransport transport = run.transport();
        LongAdder handled = new LongAdder();
        try (Outbox outbox = run.outbox(transport).build()) {
            if (endToEnd) {
                outbox.subscribe(
                        topic,
                        run.names().group(),
                        OrderPaid.class,
                        Latency.CONSUMERS,
                        (OrderPaid payload, ReceivedMessage message) -> {
                            handled.increment();
                            return null;
                        });
            }
            outbox.start();
            if (endToEnd) {
                Latency.awaitConsumers(outbox, run, topic, handled);
            }
            LongSupplier done = endToEnd ? handled::sum : transport::acknowledged;
            int messagesPerTransaction = config.sustainedMessagesPerTransaction();
            Load.Transaction transaction =
                    intended -> workload.payAll(run.dataSource(), outbox, topic, messagesPerTransaction);
            List<Step> steps = new ArrayList<>();
            int highest = 0;
            for (int rate : config.sustainedRates()) {
                Step step = step(config, rate, messagesPerTransaction, transaction, done);
                Log.detail((endToEnd ? "end to end, " : "publish only, ") + step.describe());
                steps.add(step);
                if (!step.sustained()) {
                    break;
                }
                highest = rate;
            }
            return new Result(highest, steps);
        }
    }

    private static Step step(
            BenchConfig config, int rate, int messagesPerTransaction, Load.Transaction transaction, LongSupplier done) {
        long doneAtStart = done.getAsLong();
        List<long[]> samples = new ArrayList<>();
        try (Load.OpenLoop loop = new Load.OpenLoop(config.clients())) {
            long start = System.nanoTime();
            LongSupplier backlog = () -> loop.scheduled() * messagesPerTransaction - (done.getAsLong() - doneAtStart);
            loop.run(
                    Math.max(1, rate / messagesPerTransaction),
                    config.sustainedStep(),
                    transaction,
                    () -> samples.add(new long[] {System.nanoTime() - start, backlog.getAsLong()}));
            double seconds = (System.nanoTime() - start) / 1e9;
            long backlogAtEnd = backlog.getAsLong();
            long uncommitted = loop.behind() * messagesPerTransaction;
            double committedRate = loop.completed() * messagesPerTransaction / seconds;
            double doneRate = (done.getAsLong() - doneAtStart) / seconds;
            double slope = slopeOfSecondHalf(samples);
            boolean sustained = backlogAtEnd <= rate && slope <= 0.05 * rate;
            // let what is still in flight finish, so that the next step starts from an empty backlog
            loop.awaitCompletion(DRAIN_BETWEEN_STEPS);
            Await.until(() -> backlog.getAsLong() <= 0, DRAIN_BETWEEN_STEPS);
            return new Step(rate, committedRate, doneRate, backlogAtEnd, uncommitted, slope, sustained);
        }
    }

    /** Least-squares growth of the backlog, in messages per second, over the second half of the samples. */
    static double slopeOfSecondHalf(List<long[]> samples) {
        List<long[]> half = samples.subList(samples.size() / 2, samples.size());
        if (half.size() < 2) {
            return 0;
        }
        double n = half.size();
        double sumX = 0;
        double sumY = 0;
        double sumXy = 0;
        double sumXx = 0;
        for (long[] sample : half) {
            double x = sample[0] / 1e9;
            double y = sample[1];
            sumX += x;
            sumY += y;
            sumXy += x * y;
            sumXx += x * x;
        }
        double denominator = n * sumXx - sumX * sumX;
        return denominator == 0 ? 0 : (n * sumXy - sumX * sumY) / denominator;
    }
}
