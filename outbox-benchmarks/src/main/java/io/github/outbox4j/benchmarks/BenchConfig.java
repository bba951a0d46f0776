package io.github.outbox4j.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What to run and how hard, from {@code bench.*} system properties; an unset or empty property takes the default
 * written next to it. Service locations come from the same variables as the integration tests
 * ({@code OUTBOX_TEST_POSTGRES_URL}, ...), with the development machine's loopback services as defaults.
 */
record BenchConfig(
        Set<Scenario> scenarios,
        List<Stack> stacks,
        int repeats,
        double scale,
        WarmUp warmUp,
        Duration window,
        int clients,
        boolean overheadParts,
        long drainMessages,
        long growthRows,
        int latencyRate,
        boolean latencyConsumers,
        int[] sustainedRates,
        Duration sustainedStep,
        int sustainedMessagesPerTransaction,
        Path out,
        String postgresUrl,
        String mysqlUrl,
        String kafkaBootstrap,
        String rabbitMqUri,
        Map<String, String> rabbitMqQueueArguments) {

    /** The scenarios, in the order they run. */
    enum Scenario {
        OVERHEAD,
        LATENCY,
        BROKER,
        DRAIN,
        SUSTAINED,
        GROWTH
    }

    static BenchConfig fromSystemProperties() {
        double scale = Double.parseDouble(property("bench.scale", "1"));
        return new BenchConfig(
                scenarios(property("bench", "all")),
                stacks(property("bench.stacks", "postgres-kafka,mariadb-rabbitmq")),
                Integer.parseInt(property("bench.repeats", "3")),
                scale,
                // the databases' caches settle in 10-20 s; the JIT compiler, on 2 busy cores, in 40-70 s
                new WarmUp(
                        Duration.ofSeconds(Long.parseLong(property("bench.warmup", "30"))),
                        Duration.ofSeconds(Long.parseLong(property("bench.warmup.max", "180")))),
                Duration.ofSeconds(Long.parseLong(property("bench.seconds", "20"))),
                Integer.parseInt(property("bench.clients", "16")),
                Boolean.parseBoolean(property("bench.overhead.parts", "false")),
                Math.max(1_000, Math.round(Long.parseLong(property("bench.drain.messages", "1000000")) * scale)),
                Math.round(Long.parseLong(property("bench.growth.rows", "10000000")) * scale),
                Integer.parseInt(property("bench.latency.rate", "1000")),
                Boolean.parseBoolean(property("bench.latency.consumers", "true")),
                Arrays.stream(property(
                                        "bench.sustained.rates",
                                        "250,500,1000,1500,2000,3000,4000,5000,6000,8000,10000,15000")
                                .split(","))
                        .map(String::strip)
                        .mapToInt(Integer::parseInt)
                        .toArray(),
                Duration.ofSeconds(Long.parseLong(property("bench.sustained.seconds", "10"))),
                atLeastOne("bench.sustained.messages-per-transaction"),
                Path.of(property(
                        "bench.out",
                        "target/results/bench-"
                                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                                + ".txt")),
                environment("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"),
                environment("OUTBOX_TEST_MYSQL_URL", "jdbc:mysql://127.0.0.1:3306/test?user=root"),
                environment("OUTBOX_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
                environment("OUTBOX_TEST_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"),
                queueArguments(property("bench.rabbitmq.queue-arguments", "")));
    }

    boolean runs(Scenario scenario) {
        return scenarios.contains(scenario);
    }

    /** A line for the report's header. */
    String describe() {
        return "scenarios " + scenarios + ", stacks " + stacks + ", repeats " + repeats + ", scale " + scale
                + ", warm-up " + warmUp.describe() + ", window " + window.toSeconds() + " s, clients " + clients
                + ", drain " + drainMessages + " messages, growth " + growthRows + " rows, latency rate "
                + latencyRate + "/s" + (latencyConsumers ? "" : " without consumers") + ", sustained rates "
                + Arrays.toString(sustainedRates) + " msg/s for "
                + sustainedStep.toSeconds() + " s each, " + sustainedMessagesPerTransaction
                + " message(s) per transaction"
                + (rabbitMqQueueArguments.isEmpty() ? "" : ", RabbitMQ queue arguments " + rabbitMqQueueArguments);
    }

    /**
     * {@code name=value,name=value}: the RabbitMQ transport's queue arguments, as text, like {@code
     * outbox.rabbitmq.queue-arguments.*}.
     */
    private static Map<String, String> queueArguments(String value) {
        Map<String, String> arguments = new LinkedHashMap<>();
        for (String pair : value.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int equals = pair.indexOf('=');
            if (equals < 1) {
                throw new IllegalArgumentException("bench.rabbitmq.queue-arguments: '" + pair + "' is not name=value");
            }
            arguments.put(
                    pair.substring(0, equals).strip(),
                    pair.substring(equals + 1).strip());
        }
        return arguments;
    }

    private static Set<Scenario> scenarios(String value) {
        if (value.equalsIgnoreCase("all")) {
            return new LinkedHashSet<>(List.of(Scenario.values()));
        }
        List<Scenario> chosen = new ArrayList<>();
        for (String name : value.split(",")) {
            chosen.add(Scenario.valueOf(name.strip().toUpperCase()));
        }
        Set<Scenario> ordered = new LinkedHashSet<>();
        for (Scenario scenario : Scenario.values()) {
            if (chosen.contains(scenario)) {
                ordered.add(scenario);
            }
        }
        return ordered;
    }

    private static List<Stack> stacks(String value) {
        return Arrays.stream(value.split(","))
                .map(String::strip)
                .map(Stack::named)
                .toList();
    }

    private static int atLeastOne(String name) {
        int value = Integer.parseInt(property(name, "1"));
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be 1 or more, not " + value);
        }
        return value;
    }

    private static String property(String name, String defaultValue) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? defaultValue : value.strip();
    }

    private static String environment(String name, String defaultValue) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? defaultValue : value.strip();
    }
}
