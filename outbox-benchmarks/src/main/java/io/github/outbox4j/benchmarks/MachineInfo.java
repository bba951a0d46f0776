package io.github.outbox4j.benchmarks;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** What the figures were measured on: the machine, its load, the JVM and the servers' versions. */
final class MachineInfo {
    private MachineInfo() {}

    static List<String> describe(BenchConfig config) {
        List<String> lines = new ArrayList<>();
        lines.add("processors: " + Runtime.getRuntime().availableProcessors() + ", load average: " + loadAverage()
                + ", memory: " + memory());
        lines.add("JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + " (" + System.getProperty("java.vm.vendor") + "), heap max "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB, GC "
                + ManagementFactory.getGarbageCollectorMXBeans().stream()
                        .map(GarbageCollectorMXBean::getName)
                        .collect(Collectors.joining(", ")));
        lines.add("OS: " + System.getProperty("os.name") + " " + System.getProperty("os.version"));
        for (Stack stack : config.stacks()) {
            lines.add(stack.database() + ": " + databaseVersion(stack.jdbcUrl(config)) + " at "
                    + redact(stack.jdbcUrl(config)));
            lines.add(stack.broker() + ": " + stack.brokerVersion(config));
        }
        return lines;
    }

    /** The 1, 5 and 15 minute load averages. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | RuntimeException e) {
            return String.format(
                    "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static String memory() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " ");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String databaseVersion(String url) {
        try (Connection connection = DriverManager.getConnection(url);
                Statement statement = connection.createStatement();
                ResultSet resultSet = statement.executeQuery("SELECT version()")) {
            resultSet.next();
            return resultSet.getString(1);
        } catch (Exception e) {
            return "unreachable (" + e.getMessage() + ")";
        }
    }

    private static String redact(String url) {
        return url.replaceAll("password=[^&]*", "password=***");
    }
}
