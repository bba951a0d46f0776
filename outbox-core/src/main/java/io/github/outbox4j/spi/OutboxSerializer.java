package io.github.outbox4j.spi;

import java.lang.reflect.Type;

/**
 * Turns payloads into JSON text and back. Implementations are thread-safe and throw
 * {@link io.github.outbox4j.OutboxSerializationException} naming the type that failed.
 */
public interface OutboxSerializer {

    String serialize(Object payload);

    <T> T deserialize(String json, Type type);
}
