package io.github.outbox4j.benchmarks;

import io.github.outbox4j.benchmarks.BenchConfig.Scenario;
import io.github.outbox4j.benchmarks.Report.Target;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Runs the benchmarks chosen by {@code bench.*} system properties (see {@link BenchConfig} and docs/performance.md)
 * against the real databases and brokers, and prints one table per scenario. Each repeat uses its own tables, topic
 * or exchange, dropped afterwards. Exits with 1 if any measurement failed.
 */
public final class Benchmarks {
    private final BenchConfig config;
    private final Report report;
    private int failures;

    private Benchmarks(BenchConfig config, Report report) {
        this.config = config;
        this.report = report;
    }

    public static void main(String[] args) {
        BenchConfig config = BenchConfig.fromSystemProperties();
        int failures;
        try (Report report = new Report(config.out())) {
            Benchmarks benchmarks = new Benchmarks(config, report);
            benchmarks.run();
            failures = benchmarks.failures;
        }
        Log.progress("results written to " + config.out().toAbsolutePath());
        // the clients' daemon threads are closed; exit explicitly all the same, a benchmark must not hang
        System.exit(failures == 0 ? 0 : 1);
    }

    private void run() {
        report.line("Outbox4j benchmarks, started " + LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS));
        MachineInfo.describe(config).forEach(line -> report.line("  " + line));
        report.line("  settings: " + config.describe());
        report.line("  engine settings: library defaults (OutboxSettings.defaults(), RetryPolicy.defaults(), transport"
                + " defaults); Kafka topics with " + Stack.KAFKA_PARTITIONS + " partitions, " + Latency.CONSUMERS
                + " consumers per group");
        if (config.runs(Scenario.OVERHEAD)) {
            overhead();
        }
        if (config.runs(Scenario.LATENCY)) {
            latency();
        }
        if (config.runs(Scenario.BROKER)) {
            brokerAlone();
        }
        if (config.runs(Scenario.DRAIN)) {
            drain();
        }
        if (config.runs(Scenario.SUSTAINED)) {
            sustained();
        }
        if (config.runs(Scenario.GROWTH)) {
            growth();
        }
        report.line("");
        report.line("finished " + LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS) + ", load average "
                + MachineInfo.loadAverage() + (failures == 0 ? "" : ", " + failures + " measurements FAILED"));
    }

    private void overhead() {
        report.heading("1. Publish overhead: " + config.clients() + " clients, closed loop, "
                + config.window().toSeconds() + " s window after a warm-up of "
                + config.warmUp().describe());
        for (Stack stack : config.stacks()) {
            List<PublishOverhead.Result> results =
                    repeat(stack, "overhead", PublishOverhead::measure, PublishOverhead.Result::describe);
            overheadFigures(stack, results);
        }
        report.table();
    }

    private void overheadFigures(Stack stack, List<PublishOverhead.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        figure(stack, "plain JDBC: order + hand-written outbox row", " tx/s", results, r -> r.plainHandWritten());
        figure(stack, "plain Java: order + Outbox.publisher(Connection)", " tx/s", results, r -> r.plainOutbox());
        figure(stack, "plain Java ratio", "", results, r -> r.plainRatio(), Target.atLeast(0.8, ""));
        figure(stack, "Spring: @Transactional, hand-written row", " tx/s", results, r -> r.springHandWritten());
        figure(stack, "Spring: @TransactionalPublish", " tx/s", results, r -> r.springOutbox());
        figure(stack, "Spring ratio", "", results, r -> r.springRatio(), Target.atLeast(0.8, ""));
        figure(stack, "left to the retry processor (plain + Spring)", " msgs", results, r ->
                (double) (r.plainNotDispatched() + r.springNotDispatched()));
    }

    private void latency() {
        report.heading("2. Latency at " + config.latencyRate() + " msg/s"
                + (config.latencyConsumers() ? "" : " (no consumers)")
                + ", open loop, "
                + config.window().toSeconds() + " s window after a warm-up of "
                + config.warmUp().describe() + " (milliseconds)");
        for (Stack stack : config.stacks()) {
            List<Latency.Result> results = repeat(stack, "latency", Latency::measure, Latency.Result::describe);
            latencyFigures(stack, results);
        }
        report.table();
    }

    private void latencyFigures(Stack stack, List<Latency.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        boolean kafka = stack == Stack.POSTGRES_KAFKA;
        Target ackP50 = kafka ? Target.atMost(2, " ms") : Target.NONE;
        Target ackP99 = Target.atMost(kafka ? 8 : 15, " ms");
        figure(stack, "achieved rate", " tx/s", results, r -> r.achievedRate());
        percentiles(stack, "commit -> broker ack", results, r -> r.ackFromCommit(), ackP50, ackP99);
        percentiles(
                stack, "commit -> handler", results, r -> r.handlerFromCommit(), Target.NONE, Target.atMost(15, " ms"));
        percentiles(stack, "schedule -> broker ack", results, r -> r.ackFromIntended(), Target.NONE, Target.NONE);
        percentiles(stack, "schedule -> handler", results, r -> r.handlerFromIntended(), Target.NONE, Target.NONE);
        figure(
                stack,
                "OutboxObserver.sent (insert -> ack) p50",
                " ms",
                results,
                r -> r.observedSent().p50());
        figure(
                stack,
                "OutboxObserver.sent (insert -> ack) p99",
                " ms",
                results,
                r -> r.observedSent().p99());
        figure(
                stack,
                "OutboxObserver.handled (inbox insert -> handler commit) p50",
                " ms",
                results,
                r -> r.observedHandled().p50());
        figure(
                stack,
                "OutboxObserver.handled (inbox insert -> handler commit) p99",
                " ms",
                results,
                r -> r.observedHandled().p99());
    }

    private void brokerAlone() {
        report.heading("2b. The broker alone, no database, no library: " + config.latencyRate()
                + " msg/s, open loop, " + config.window().toSeconds() + " s window after a warm-up of "
                + config.warmUp().describe() + " (milliseconds)");
        for (Stack stack : config.stacks()) {
            List<BrokerAlone.Result> results =
                    repeat(stack, "broker alone", BrokerAlone::measure, BrokerAlone.Result::describe);
            if (results.isEmpty()) {
                continue;
            }
            figure(stack, "achieved rate", " msg/s", results, r -> r.achievedRate());
            percentiles(stack, "send -> broker ack", results, r -> r.ackFromSend(), Target.NONE, Target.NONE);
            percentiles(stack, "send -> consumer", results, r -> r.consumerFromSend(), Target.NONE, Target.NONE);
            figure(
                    stack,
                    "schedule -> broker ack p99",
                    " ms",
                    results,
                    r -> r.ackFromIntended().p99());
        }
        report.table();
    }

    private void drain() {
        report.heading("3. Backlog drain: " + config.drainMessages() + " committed messages, then an engine starts");
        for (Stack stack : config.stacks()) {
            List<BacklogDrain.Result> results = repeat(
                    stack,
                    "drain",
                    run -> BacklogDrain.measure(run, config.drainMessages()),
                    BacklogDrain.Result::describe);
            if (results.isEmpty()) {
                continue;
            }
            double target = stack == Stack.POSTGRES_KAFKA ? 50_000 : 10_000;
            figure(
                    stack,
                    "drain rate to " + stack.broker(),
                    " msg/s",
                    results,
                    r -> r.drainRate(),
                    Target.atLeast(target, " msg/s"));
            figure(stack, "peak heap used", " MB", results, r -> r.peakUsedMb());
            figure(stack, "peak heap after GC", " MB", results, r -> r.peakAfterGcMb());
            figure(stack, "heap after GC at start", " MB", results, r -> r.startMb());
            figure(stack, "backlog load rate (publisher, 4 threads)", " msg/s", results, r -> r.loadRate());
        }
        report.table();
    }

    private void sustained() {
        report.heading("4. Sustained throughput: offered rate stepped up, "
                + config.sustainedStep().toSeconds() + " s per step, until the backlog grows; "
                + config.sustainedMessagesPerTransaction() + " message(s) per transaction");
        for (Stack stack : config.stacks()) {
            List<SustainedThroughput.Result[]> results = repeat(
                    stack,
                    "sustained",
                    run -> new SustainedThroughput.Result[] {
                        SustainedThroughput.measure(run, false), SustainedThroughput.measure(run, true)
                    },
                    pair -> "highest sustained: publish only " + pair[0].highestSustained() + "/s, end to end "
                            + pair[1].highestSustained() + "/s" + pair[0].describeSteps("publish only")
                            + pair[1].describeSteps("end to end"));
            if (results.isEmpty()) {
                continue;
            }
            figure(stack, "publish -> broker", " msg/s", results, r -> r[0].highestSustained());
            figure(stack, "publish -> broker -> inbox -> handler", " msg/s", results, r -> r[1].highestSustained());
            figure(
                    stack,
                    "end to end / publish only",
                    "",
                    results,
                    r -> r[0].highestSustained() == 0
                            ? Double.NaN
                            : (double) r[1].highestSustained() / r[0].highestSustained());
        }
        report.table();
    }

    private void growth() {
        report.heading("5. Growth: items 1 and 2 with " + config.growthRows() + " SUCCEEDED rows retained in the"
                + " outbox table (loaded once per stack, repeats share them)");
        for (Stack stack : config.stacks()) {
            Log.progress(stack + " growth: loading " + config.growthRows() + " rows, load average "
                    + MachineInfo.loadAverage());
            List<PublishOverhead.Result> overheads = new ArrayList<>();
            List<Latency.Result> latencies = new ArrayList<>();
            try (Run run = Run.open(config, stack)) {
                double rate = Growth.load(run, config.growthRows());
                report.line("  " + stack + ": loaded " + config.growthRows() + " rows at " + Report.format(rate)
                        + " rows/s, load average " + MachineInfo.loadAverage());
                for (int repeat = 1; repeat <= config.repeats(); repeat++) {
                    PublishOverhead.Result overhead = PublishOverhead.measure(run);
                    report.line("  " + stack + " #" + repeat + " overhead: " + overhead.describe());
                    overheads.add(overhead);
                    Latency.Result latency = Latency.measure(run);
                    report.line("  " + stack + " #" + repeat + " latency: " + latency.describe());
                    latencies.add(latency);
                }
            } catch (RuntimeException e) {
                failed(stack, "growth", e);
            }
            overheadFigures(stack, overheads);
            latencyFigures(stack, latencies);
        }
        report.table();
    }

    /** Runs {@code measurement} once per repeat, each on a fresh {@link Run}; a failed repeat is reported and skipped. */
    private <R> List<R> repeat(
            Stack stack, String scenario, Function<Run, R> measurement, Function<R, String> describe) {
        List<R> results = new ArrayList<>();
        for (int repeat = 1; repeat <= config.repeats(); repeat++) {
            String load = MachineInfo.loadAverage();
            Log.progress(stack + " " + scenario + " #" + repeat + ", load average " + load);
            config.warmUp().takeSummary(); // forget what a failed repeat left
            try (Run run = Run.open(config, stack)) {
                R result = measurement.apply(run);
                String warmUps = config.warmUp().takeSummary();
                report.line("  " + stack + " #" + repeat + " (load " + load + "): " + describe.apply(result)
                        + (warmUps.isEmpty() ? "" : "; " + warmUps));
                results.add(result);
            } catch (RuntimeException e) {
                failed(stack, scenario + " #" + repeat, e);
            }
        }
        return results;
    }

    private void failed(Stack stack, String what, RuntimeException e) {
        failures++;
        report.line("  " + stack + " " + what + " FAILED: " + e);
        e.printStackTrace();
    }

    /** Three rows for one latency: its p50, p99 and p99.9, in milliseconds. */
    private <R> void percentiles(
            Stack stack,
            String name,
            List<R> results,
            Function<R, Latency.Percentiles> latency,
            Target p50Target,
            Target p99Target) {
        figure(stack, name + " p50", " ms", results, r -> latency.apply(r).p50(), p50Target);
        figure(stack, name + " p99", " ms", results, r -> latency.apply(r).p99(), p99Target);
        figure(stack, name + " p99.9", " ms", results, r -> latency.apply(r).p999());
    }

    private <R> void figure(Stack stack, String name, String unit, List<R> results, ToDoubleFunction<R> value) {
        figure(stack, name, unit, results, value, Target.NONE);
    }

    private <R> void figure(
            Stack stack, String name, String unit, List<R> results, ToDoubleFunction<R> value, Target target) {
        report.figure(
                stack, name, unit, results.stream().map(value::applyAsDouble).toList(), target);
    }
}
