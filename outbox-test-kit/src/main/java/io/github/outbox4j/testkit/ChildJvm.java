package io.github.outbox4j.testkit;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A JVM of its own running a main class from this JVM's class path, so that a test can kill it with SIGKILL at
 * any point. Its output lines (standard error merged) can be awaited, and are echoed with a label.
 */
public final class ChildJvm implements AutoCloseable {
    private final String label;
    private final Process process;
    private final Predicate<String> echoed;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private ChildJvm(String label, Process process, Predicate<String> echoed) {
        this.label = label;
        this.process = process;
        this.echoed = echoed;
        Thread reader = new Thread(this::readOutput, label + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass} with {@code jvmOptions} and {@code arguments}, echoing every output line.
     *
     * @param label names the child in the echoed lines, e.g. {@code consumer-process}
     */
    public static ChildJvm start(String label, Class<?> mainClass, List<String> jvmOptions, List<String> arguments)
            throws IOException {
        return start(label, mainClass, jvmOptions, arguments, line -> true);
    }

    /**
     * As {@link #start(String, Class, List, List)}; {@code echoed} sees every line first, and a line for which it
     * returns {@code false} is not echoed (it can still be awaited).
     */
    public static ChildJvm start(
            String label, Class<?> mainClass, List<String> jvmOptions, List<String> arguments, Predicate<String> echoed)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(arguments);
        return new ChildJvm(
                label, new ProcessBuilder(command).redirectErrorStream(true).start(), echoed);
    }

    /** Waits for a line of output starting with {@code prefix}; returns it. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (line == null && !process.isAlive()) {
                break;
            }
        }
        throw new IllegalStateException("The " + label + " did not print '" + prefix + "' within " + timeout
                + (process.isAlive() ? "" : "; it exited with " + process.exitValue()));
    }

    /** SIGKILL: no shutdown hook runs, no rollback by the process itself; the database aborts its transactions. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("The " + label + " survived SIGKILL for 30 s");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    private void readOutput() {
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (echoed.test(line)) {
                    System.out.println("[" + label + "] " + line);
                }
                lines.add(line);
            }
        } catch (IOException e) {
            // the process was killed: that is what the tests do to it
        }
    }
}
