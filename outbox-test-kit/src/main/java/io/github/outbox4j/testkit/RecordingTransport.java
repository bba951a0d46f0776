package io.github.outbox4j.testkit;

import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.TransportMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A transport for engine tests that stands in for a broker which fails on demand: it records every attempt
 * with the engine clock's time, can fail the first N attempts of each message (or all of them), and
 * measures how many sends are in flight at once, overall and per message. Thread-safe.
 */
public final class RecordingTransport implements OutboxTransport {

    /** One send attempt as the engine made it. */
    public record Attempt(String messageId, int number, Instant at) {}

    private final Clock clock;
    private final boolean recordAttempts;
    private volatile int failFirst;
    private volatile Duration latency = Duration.ZERO;
    private final Map<String, AtomicInteger> attemptsById = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> deliveriesById = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> inFlightById = new ConcurrentHashMap<>();
    private final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    private final LongAdder delivered = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger maxInFlightPerMessage = new AtomicInteger();

    private RecordingTransport(Clock clock, boolean recordAttempts) {
        this.clock = clock;
        this.recordAttempts = recordAttempts;
    }

    /** Records every attempt with its time: for tests of a few messages. */
    public static RecordingTransport recording(Clock clock) {
        return new RecordingTransport(clock, true);
    }

    /** Counts deliveries per message only: for backlogs, where a list of every attempt would fill the heap. */
    public static RecordingTransport counting(Clock clock) {
        return new RecordingTransport(clock, false);
    }

    /** Fails the first {@code attempts} attempts of every message; {@link Integer#MAX_VALUE} fails all. */
    public RecordingTransport failFirst(int attempts) {
        this.failFirst = attempts;
        return this;
    }

    public RecordingTransport failAlways() {
        return failFirst(Integer.MAX_VALUE);
    }

    /** Answers each send after {@code latency}, like a broker across a network. */
    public RecordingTransport latency(Duration latency) {
        this.latency = latency;
        return this;
    }

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        int number = attemptsById
                .computeIfAbsent(message.id(), id -> new AtomicInteger())
                .incrementAndGet();
        if (recordAttempts) {
            attempts.add(new Attempt(message.id(), number, clock.instant()));
        }
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        AtomicInteger perMessage = inFlightById.computeIfAbsent(message.id(), id -> new AtomicInteger());
        maxInFlightPerMessage.accumulateAndGet(perMessage.incrementAndGet(), Math::max);
        Executor executor = latency.isZero()
                ? Runnable::run
                : CompletableFuture.delayedExecutor(latency.toNanos(), TimeUnit.NANOSECONDS);
        return CompletableFuture.runAsync(
                () -> {
                    perMessage.decrementAndGet();
                    inFlight.decrementAndGet();
                    if (number <= failFirst) {
                        throw new IllegalStateException("broker unavailable (attempt " + number + " refused)");
                    }
                    deliveriesById
                            .computeIfAbsent(message.id(), id -> new AtomicInteger())
                            .incrementAndGet();
                    delivered.increment();
                },
                executor);
    }

    /** Every attempt on {@code messageId}, in order (recording transports only). */
    public List<Attempt> attempts(String messageId) {
        return attempts.stream().filter(a -> a.messageId().equals(messageId)).toList();
    }

    public int attemptCount(String messageId) {
        AtomicInteger count = attemptsById.get(messageId);
        return count == null ? 0 : count.get();
    }

    public int deliveries(String messageId) {
        AtomicInteger count = deliveriesById.get(messageId);
        return count == null ? 0 : count.get();
    }

    /** Successful sends over all messages. */
    public long delivered() {
        return delivered.sum();
    }

    /** Messages delivered more than once. */
    public long duplicates() {
        return deliveriesById.values().stream().filter(count -> count.get() > 1).count();
    }

    /** Distinct messages attempted. */
    public int messagesAttempted() {
        return attemptsById.size();
    }

    /** The most sends that were in flight at the same time. */
    public int maxInFlight() {
        return maxInFlight.get();
    }

    /** The most sends of one message that were in flight at the same time: 1 unless two workers overlapped. */
    public int maxInFlightPerMessage() {
        return maxInFlightPerMessage.get();
    }
}
