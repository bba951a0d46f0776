package io.github.outbox4j.testkit;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Sends a signal to a process with {@code kill(1)}: the JDK sends only SIGTERM and SIGKILL. SIGSTOP freezes a
 * broker the way a long garbage-collection pause or a network that drops every packet does: its connections stay
 * open and nothing answers on them. SIGCONT lets it go on where it stopped.
 */
final class Signals {
    private Signals() {}

    static void stop(long pid) {
        send("STOP", pid);
    }

    static void resume(long pid) {
        send("CONT", pid);
    }

    private static void send(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true)
                    .start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                kill.destroyForcibly();
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes()).strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot run kill -" + signal + " " + pid + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending SIG" + signal + " to " + pid, e);
        }
    }
}
