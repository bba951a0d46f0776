package io.github.outbox4j.spring.boot.metrics;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Counts what happens to messages with Micrometer. Every meter is tagged {@code topic} and {@code transport}; those of
 * the received side also {@code group}:
 *
 * <ul>
 *   <li>{@code outbox.messages.published}: rows written (their transaction may still roll back);
 *   <li>{@code outbox.messages.sent}: messages the broker acknowledged, and the timer {@code outbox.messages.delivery}:
 *       from the outbox insert to the broker's acknowledgment;
 *   <li>{@code outbox.messages.send.failures}: failed send attempts;
 *   <li>{@code outbox.messages.received}, {@code outbox.messages.duplicates}: inbox inserts and skipped duplicates;
 *   <li>{@code outbox.messages.handled}, and the timer {@code outbox.messages.handling}: from the inbox insert to the
 *       handler's commit; {@code outbox.messages.handler.failures}: failed handler attempts;
 *   <li>{@code outbox.messages.exhausted}: messages that became FAILED, tagged {@code kind} too.
 * </ul>
 *
 * Topics and groups are tag values: an application with an unbounded number of topics should filter these meters
 * with a {@code MeterFilter}. Thread-safe; never throws into the engine.
 */
public final class MicrometerOutboxObserver implements OutboxObserver {
    private static final String NONE = "none";

    private final Meter.MeterProvider<Counter> published;
    private final Meter.MeterProvider<Counter> sent;
    private final Meter.MeterProvider<Timer> delivery;
    private final Meter.MeterProvider<Counter> sendFailures;
    private final Meter.MeterProvider<Counter> received;
    private final Meter.MeterProvider<Counter> duplicates;
    private final Meter.MeterProvider<Counter> handled;
    private final Meter.MeterProvider<Timer> handling;
    private final Meter.MeterProvider<Counter> handlerFailures;
    private final Meter.MeterProvider<Counter> exhausted;
    private final Supplier<String> transport;
    private volatile String transportName;

    /**
     * @param transport the transport's name for the {@code transport} tag; asked once, at the first event
     */
    public MicrometerOutboxObserver(MeterRegistry registry, Supplier<String> transport) {
        Objects.requireNonNull(registry, "registry");
        this.transport = Objects.requireNonNull(transport, "transport");
        published = Counter.builder("outbox.messages.published")
                .description("Messages written to the outbox table")
                .withRegistry(registry);
        sent = Counter.builder("outbox.messages.sent")
                .description("Messages the broker acknowledged")
                .withRegistry(registry);
        delivery = Timer.builder("outbox.messages.delivery")
                .description("Time from the outbox insert to the broker's acknowledgment")
                .withRegistry(registry);
        sendFailures = Counter.builder("outbox.messages.send.failures")
                .description("Failed send attempts")
                .withRegistry(registry);
        received = Counter.builder("outbox.messages.received")
                .description("Messages stored in the inbox table")
                .withRegistry(registry);
        duplicates = Counter.builder("outbox.messages.duplicates")
                .description("Messages received again by a group that had them, skipped")
                .withRegistry(registry);
        handled = Counter.builder("outbox.messages.handled")
                .description("Messages whose handler succeeded")
                .withRegistry(registry);
        handling = Timer.builder("outbox.messages.handling")
                .description("Time from the inbox insert to the commit of the handler")
                .withRegistry(registry);
        handlerFailures = Counter.builder("outbox.messages.handler.failures")
                .description("Failed handler attempts")
                .withRegistry(registry);
        exhausted = Counter.builder("outbox.messages.exhausted")
                .description("Messages that became FAILED")
                .withRegistry(registry);
    }

    @Override
    public void published(String topic) {
        published.withTags(tags(topic, null)).increment();
    }

    @Override
    public void sent(String topic, Duration sinceAdded) {
        Tags tags = tags(topic, null);
        sent.withTags(tags).increment();
        delivery.withTags(tags).record(sinceAdded.isNegative() ? Duration.ZERO : sinceAdded);
    }

    @Override
    public void sendFailed(String topic, Throwable error) {
        sendFailures.withTags(tags(topic, null)).increment();
    }

    @Override
    public void received(String topic, String group) {
        received.withTags(tags(topic, group)).increment();
    }

    @Override
    public void duplicate(String topic, String group) {
        duplicates.withTags(tags(topic, group)).increment();
    }

    @Override
    public void handled(String topic, String group, Duration sinceReceived) {
        Tags tags = tags(topic, group);
        handled.withTags(tags).increment();
        handling.withTags(tags).record(sinceReceived.isNegative() ? Duration.ZERO : sinceReceived);
    }

    @Override
    public void handlerFailed(String topic, String group, Throwable error) {
        handlerFailures.withTags(tags(topic, group)).increment();
    }

    @Override
    public void exhausted(MessageKind kind, String topic, String group) {
        exhausted
                .withTags(tags(topic, group).and("kind", kind.name().toLowerCase(Locale.ROOT)))
                .increment();
    }

    private Tags tags(String topic, String group) {
        Tags tags = Tags.of("topic", topic == null ? NONE : topic, "transport", transport());
        return group == null ? tags : tags.and("group", group);
    }

    private String transport() {
        String name = transportName;
        if (name == null) {
            try {
                name = Objects.requireNonNullElse(transport.get(), NONE);
            } catch (RuntimeException e) {
                name = NONE;
            }
            transportName = name;
        }
        return name;
    }
}
