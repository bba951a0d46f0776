package io.github.outbox4j.jackson;

import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.spi.OutboxSerializer;
import java.lang.reflect.Type;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The default serializer: Jackson 3. Pass the application's own mapper to share its modules and settings
 * (the Spring starter does). Thread-safe, as the mapper is.
 */
public final class JacksonOutboxSerializer implements OutboxSerializer {
    private final ObjectMapper mapper;

    /** A serializer with a default {@link JsonMapper}. */
    public JacksonOutboxSerializer() {
        this(JsonMapper.builder().build());
    }

    public JacksonOutboxSerializer(ObjectMapper mapper) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
    }

    @Override
    public String serialize(Object payload) {
        try {
            return mapper.writeValueAsString(payload);
        } catch (JacksonException e) {
            throw new OutboxSerializationException(
                    "Cannot serialize a payload of type " + payload.getClass().getName() + " to JSON: "
                            + e.getOriginalMessage(),
                    e);
        }
    }

    @Override
    public <T> T deserialize(String json, Type type) {
        JavaType javaType = mapper.getTypeFactory().constructType(type);
        try {
            return mapper.readValue(json, javaType);
        } catch (JacksonException e) {
            throw new OutboxSerializationException(
                    "Cannot read the message body as " + javaType.toCanonical() + ": " + e.getOriginalMessage(), e);
        }
    }
}
