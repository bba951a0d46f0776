package io.github.outbox4j.internal;

import io.github.outbox4j.MessageHandler;
import io.github.outbox4j.spi.Subscription;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The handlers registered per (group, topic), and the subscriptions they add up to per group. Filled before
 * the outbox starts, read-only afterwards; safe to read from any thread once started.
 */
public final class Subscribers {

    /** One handler with the type its payload is read as. */
    public record Subscriber(
            String topic, String group, Type payloadType, int concurrency, MessageHandler<Object> handler) {}

    private record Key(String group, String topic) {}

    private final Map<Key, Subscriber> byKey = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    public synchronized void add(
            String topic, String group, Type payloadType, int concurrency, MessageHandler<?> handler) {
        requireText(topic, "topic");
        requireText(group, "group");
        Objects.requireNonNull(payloadType, "payloadType");
        Objects.requireNonNull(handler, "handler");
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
        Key key = new Key(group, topic);
        if (byKey.containsKey(key)) {
            throw new IllegalStateException("Topic '" + topic + "' already has a handler in group '" + group
                    + "': a group handles a topic" + " once; use another group for a second handler");
        }
        byKey.put(key, new Subscriber(topic, group, payloadType, concurrency, (MessageHandler<Object>) handler));
    }

    /** The handler of {@code topic} in {@code group}, or {@code null}. */
    public synchronized Subscriber find(String group, String topic) {
        return byKey.get(new Key(group, topic));
    }

    public synchronized boolean isEmpty() {
        return byKey.isEmpty();
    }

    /** One subscription per group: its topics, and the highest concurrency any of its handlers asked for. */
    public synchronized List<Subscription> subscriptions() {
        Map<String, Set<String>> topics = new LinkedHashMap<>();
        Map<String, Integer> concurrency = new LinkedHashMap<>();
        for (Subscriber subscriber : byKey.values()) {
            topics.computeIfAbsent(subscriber.group(), g -> new LinkedHashSet<>())
                    .add(subscriber.topic());
            concurrency.merge(subscriber.group(), subscriber.concurrency(), Math::max);
        }
        List<Subscription> result = new ArrayList<>();
        topics.forEach(
                (group, groupTopics) -> result.add(new Subscription(group, groupTopics, concurrency.get(group))));
        return result;
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be null or blank");
        }
    }
}
