package io.github.outbox4j.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class InMemoryTransportTest {

    @Test
    void deliversToTheTopicsListenersAndKeepsWhatWasSent() {
        InMemoryTransport transport = new InMemoryTransport();
        List<String> paid = new ArrayList<>();
        List<String> other = new ArrayList<>();
        transport.subscribe("order.paid", message -> paid.add(message.id()));
        transport.subscribe("order.cancelled", message -> other.add(message.id()));

        CompletableFuture<Void> first =
                transport.send(message("m-1", "order.paid")).toCompletableFuture();
        transport.send(message("m-2", "order.paid"));
        transport.send(message("m-3", "nobody.listens"));

        assertThat(first).isCompletedWithValue(null);
        assertThat(paid).containsExactly("m-1", "m-2");
        assertThat(other).isEmpty();
        assertThat(transport.sent()).extracting(TransportMessage::id).containsExactly("m-1", "m-2", "m-3");
        assertThat(transport.name()).isEqualTo("in-memory");
    }

    @Test
    void listenerThatThrowsFailsTheSend() {
        InMemoryTransport transport = new InMemoryTransport();
        transport.subscribe("order.paid", message -> {
            throw new IllegalStateException("handler down");
        });

        CompletableFuture<Void> sent =
                transport.send(message("m-1", "order.paid")).toCompletableFuture();

        assertThat(sent).isCompletedExceptionally();
        assertThat(transport.sent()).isEmpty();
    }

    private static TransportMessage message(String id, String topic) {
        return new TransportMessage(id, topic, null, Map.of(), "{}".getBytes(StandardCharsets.UTF_8));
    }
}
