package io.github.outbox4j.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends signals to processes with {@code kill(1)}: the JDK sends only SIGTERM and SIGKILL. SIGSTOP freezes a server
 * the way a long pause or a network that drops every packet does: its connections stay open and nothing answers on
 * them. SIGCONT lets it go on where it stopped.
 */
public final class Signals {
    private Signals() {}

    /** Freezes the processes (SIGSTOP). */
    public static void stop(List<Long> pids) {
        send("STOP", pids);
    }

    /** Lets frozen processes go on (SIGCONT); one that has ended meanwhile is left out. */
    public static void resume(List<Long> pids) {
        send("CONT", pids);
    }

    /**
     * Freezes {@code root} and then every process it started, as a server's worker processes: the root first, so that
     * it starts no more. Returns the processes frozen, for {@link #resume}.
     */
    public static List<Long> stopTree(long root) {
        ProcessHandle handle = ProcessHandle.of(root)
                .orElseThrow(() -> new IllegalStateException("No process " + root + " to freeze"));
        stop(List.of(root));
        List<Long> frozen = new ArrayList<>();
        frozen.add(root);
        handle.descendants().forEach(child -> frozen.add(child.pid()));
        stop(frozen.subList(1, frozen.size()));
        return frozen;
    }

    private static void send(String signal, List<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in 10 s");
            }
            String output = new String(kill.getInputStream().readAllBytes()).strip();
            // a worker process that ended by itself between the listing and the signal is no failure
            if (kill.exitValue() != 0 && !output.lines().allMatch(line -> line.contains("No such process"))) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending SIG" + signal + " to " + pids, e);
        }
    }
}
