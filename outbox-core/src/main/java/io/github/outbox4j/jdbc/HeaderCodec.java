package io.github.outbox4j.jdbc;

import io.github.outbox4j.OutboxException;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Stores a message's headers as one JSON object in a text column. */
final class HeaderCodec {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<Map<String, String>> MAP = new TypeReference<>() {};

    private HeaderCodec() {}

    static String encode(Map<String, String> headers) {
        return JSON.writeValueAsString(headers);
    }

    static Map<String, String> decode(String json) {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, MAP);
        } catch (JacksonException e) {
            throw new OutboxException("Stored headers are not a JSON object of strings: " + json, e);
        }
    }
}
