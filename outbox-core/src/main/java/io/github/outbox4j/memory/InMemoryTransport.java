package io.github.outbox4j.memory;

import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A transport that delivers inside this JVM, for tests and for single-process applications that want the
 * outbox's persistence, inbox and retries without a broker. A send succeeds once every subscribed group has
 * stored the message in its inbox (and every plain listener of the topic has returned); if one throws, the
 * send fails and is retried by the policy, so they see it again. Thread-safe.
 */
public final class InMemoryTransport implements OutboxTransport {
    private final Map<String, List<Consumer<TransportMessage>>> listeners = new ConcurrentHashMap<>();
    private final List<TransportMessage> sent = new CopyOnWriteArrayList<>();
    private final List<GroupSubscription> groups = new CopyOnWriteArrayList<>();

    private record GroupSubscription(Subscription subscription, InboundListener listener) {}

    @Override
    public String name() {
        return "in-memory";
    }

    /** Calls {@code listener} with every message sent to {@code topic} from now on. */
    public void subscribe(String topic, Consumer<TransportMessage> listener) {
        listeners.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(listener);
    }

    @Override
    public void subscribe(Subscription subscription, InboundListener listener) {
        groups.add(new GroupSubscription(subscription, listener));
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        try {
            for (GroupSubscription group : groups) {
                if (group.subscription().topics().contains(message.topic())) {
                    group.listener().onMessages(group.subscription().group(), List.of(message));
                }
            }
            for (Consumer<TransportMessage> listener : listeners.getOrDefault(message.topic(), List.of())) {
                listener.accept(message);
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        sent.add(message);
        return CompletableFuture.completedFuture(null);
    }

    /** Every message sent successfully so far, in order. */
    public List<TransportMessage> sent() {
        return List.copyOf(sent);
    }
}
