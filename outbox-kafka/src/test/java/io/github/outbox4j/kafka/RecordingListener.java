package io.github.outbox4j.kafka;

import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.TransportMessage;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/** Records every batch it is handed; {@link #behavior} runs first and may throw or block. */
final class RecordingListener implements InboundListener {

    /** One call: the thread that made it, the group, the messages, and when (nanoTime). */
    record Call(String thread, String group, List<TransportMessage> messages, long at, boolean failed) {}

    @FunctionalInterface
    interface Behavior {
        void before(List<TransportMessage> messages);
    }

    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<TransportMessage> stored = new ConcurrentLinkedQueue<>();
    private final Behavior behavior;

    RecordingListener() {
        this(messages -> {});
    }

    RecordingListener(Behavior behavior) {
        this.behavior = behavior;
    }

    /** A listener that counts {@code entered} down at each call and then waits, inside it, for {@code release}. */
    static RecordingListener blockedUntil(CountDownLatch release, CountDownLatch entered) {
        return new RecordingListener(messages -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public void onMessages(String group, List<TransportMessage> messages) {
        long at = System.nanoTime();
        try {
            behavior.before(messages);
        } catch (RuntimeException | Error e) {
            calls.add(new Call(Thread.currentThread().getName(), group, List.copyOf(messages), at, true));
            throw e;
        }
        calls.add(new Call(Thread.currentThread().getName(), group, List.copyOf(messages), at, false));
        stored.addAll(messages);
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    /** The messages of every call that returned normally, in arrival order. */
    List<TransportMessage> stored() {
        return List.copyOf(stored);
    }

    Set<String> storedIds() {
        return stored.stream().map(TransportMessage::id).collect(Collectors.toSet());
    }
}
