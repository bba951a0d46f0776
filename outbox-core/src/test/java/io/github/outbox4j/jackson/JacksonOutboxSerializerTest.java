package io.github.outbox4j.jackson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxSerializationException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class JacksonOutboxSerializerTest {
    private final JacksonOutboxSerializer serializer = new JacksonOutboxSerializer();

    record OrderPaid(String orderId, BigDecimal amount, List<Line> lines) {}

    record Line(String sku, int quantity) {}

    record Envelope<T>(String type, T body) {}

    /** Captures a generic type, the way a subscriber's parameter type reaches the serializer. */
    abstract static class TypeOf<T> {
        Type type() {
            return ((ParameterizedType) getClass().getGenericSuperclass()).getActualTypeArguments()[0];
        }
    }

    /** Has a getter that fails. */
    public static final class Exploding {
        public String getValue() {
            throw new IllegalStateException("value not loaded");
        }
    }

    /** Holds itself. */
    public static final class Node {
        private final List<Node> children = new ArrayList<>();

        public List<Node> getChildren() {
            return children;
        }
    }

    @Test
    void recordRoundTrips() {
        OrderPaid event = new OrderPaid("o-1", new BigDecimal("99.90"), List.of(new Line("sku-1", 2)));

        String json = serializer.serialize(event);
        OrderPaid read = serializer.deserialize(json, OrderPaid.class);

        assertThat(json).contains("\"orderId\":\"o-1\"").contains("\"sku\":\"sku-1\"");
        assertThat(read).isEqualTo(event);
    }

    @Test
    void genericTypesRoundTrip() {
        Envelope<List<Line>> envelope = new Envelope<>("lines", List.of(new Line("a", 1), new Line("b", 2)));
        Map<String, Line> byId = Map.of("x", new Line("c", 3));

        Envelope<List<Line>> readEnvelope =
                serializer.deserialize(serializer.serialize(envelope), new TypeOf<Envelope<List<Line>>>() {}.type());
        Map<String, Line> readMap =
                serializer.deserialize(serializer.serialize(byId), new TypeOf<Map<String, Line>>() {}.type());

        assertThat(readEnvelope).isEqualTo(envelope);
        assertThat(readEnvelope.body().get(0)).isInstanceOf(Line.class);
        assertThat(readMap).isEqualTo(byId);
    }

    @Test
    void usesTheGivenMapper() {
        JacksonOutboxSerializer custom = new JacksonOutboxSerializer(JsonMapper.builder()
                .enable(tools.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .build());

        assertThat(custom.serialize(new Line("a", 1))).contains("\n");
    }

    @Test
    void getterThatThrowsFailsNamingTheType() {
        assertThatThrownBy(() -> serializer.serialize(new Exploding()))
                .isInstanceOf(OutboxSerializationException.class)
                .hasMessageContaining(Exploding.class.getName())
                .hasMessageContaining("value not loaded");
    }

    @Test
    void selfReferenceFailsNamingTheType() {
        Node node = new Node();
        node.getChildren().add(node);

        assertThatThrownBy(() -> serializer.serialize(node))
                .isInstanceOf(OutboxSerializationException.class)
                .hasMessageContaining(Node.class.getName());
    }

    @Test
    void unreadableBodyFailsNamingTheTargetType() {
        assertThatThrownBy(() -> serializer.deserialize("{\"orderId\": [1, 2", OrderPaid.class))
                .isInstanceOf(OutboxSerializationException.class)
                .hasMessageContaining(OrderPaid.class.getName());
        assertThatThrownBy(() -> serializer.deserialize("\"text\"", new TypeOf<List<Line>>() {}.type()))
                .isInstanceOf(OutboxSerializationException.class)
                .hasMessageContaining("java.util.List<");
    }
}
