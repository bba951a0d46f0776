package io.github.outbox4j.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Freezes a server's processes with SIGSTOP and lets them go on with SIGCONT, remembering which it froze. A frozen
 * server behaves as in a long pause or behind a network that drops every packet: its connections stay open and
 * nothing answers on them. The signals are sent with {@code kill(1)}: the JDK sends only SIGTERM and SIGKILL.
 * Thread-safe.
 */
public final class ProcessFreezer {
    private List<Long> frozen = List.of();

    /**
     * Freezes {@code root} and then every process it started, as a server's worker processes: the root first, so that
     * it starts no more.
     */
    public synchronized void freeze(long root) {
        ProcessHandle handle = ProcessHandle.of(root)
                .orElseThrow(() -> new IllegalStateException("No process " + root + " to freeze"));
        send("STOP", List.of(root));
        List<Long> processes = new ArrayList<>();
        processes.add(root);
        handle.descendants().forEach(child -> processes.add(child.pid()));
        send("STOP", processes.subList(1, processes.size()));
        frozen = processes;
    }

    /**
     * Lets the frozen processes go on; one that has ended meanwhile is left out. Returns whether any was frozen (it
     * does nothing otherwise).
     */
    public synchronized boolean thaw() {
        if (frozen.isEmpty()) {
            return false;
        }
        send("CONT", frozen);
        frozen = List.of();
        return true;
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
