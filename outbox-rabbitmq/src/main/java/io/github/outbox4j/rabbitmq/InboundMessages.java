package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns AMQP deliveries into {@link TransportMessage}s and outgoing messages into AMQP properties.
 *
 * <p>A delivery's id is its {@code outbox-msg-id} header (if it is UTF-8), else its AMQP {@code message-id} property if it has at
 * most {@value #MAX_ID_LENGTH} characters (the width of the storages' id columns), else
 * {@code rabbitmq:<hash>}: the first 160 bits of the SHA-256 of its queue, its routing key, its headers except
 * those starting with {@code x-} (the broker adds and changes them, e.g. {@code x-delivery-count} on quorum
 * queues) and its body, in unpadded base64url, so that the whole id is 36 characters long. A redelivery keeps
 * every one of these, so it gets the same id and the inbox recognizes it; two messages equal in all of them are
 * taken for one.
 */
final class InboundMessages {
    static final String FALLBACK_ID_PREFIX = "rabbitmq:";
    /** The width of the id columns of {@code msg_received}: an id must fit. */
    static final int MAX_ID_LENGTH = 36;

    private static final int FALLBACK_HASH_BYTES = 20; // 27 base64url characters: with the prefix, 36

    private InboundMessages() {}

    static TransportMessage toTransportMessage(
            String queue, String routingKey, AMQP.BasicProperties properties, byte[] body) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (properties.getHeaders() != null) {
            properties.getHeaders().forEach((name, value) -> {
                if (name != null && value != null) {
                    headers.put(name, headerText(value));
                }
            });
        }
        if (properties.getContentType() != null) {
            headers.putIfAbsent(OutboxHeaders.CONTENT_TYPE, properties.getContentType());
        }
        String id = headers.get(OutboxHeaders.MESSAGE_ID);
        // a header that was not UTF-8 reads with U+FFFD, and two different ones could read the same: not an id
        if (id == null || id.isBlank() || id.indexOf('\uFFFD') >= 0) {
            String messageId = properties.getMessageId();
            id = messageId != null && !messageId.isBlank() && messageId.length() <= MAX_ID_LENGTH
                    ? messageId
                    : fallbackId(queue, routingKey, headers, body);
        }
        return new TransportMessage(id, routingKey, headers.get(OutboxHeaders.MESSAGE_KEY), headers, body);
    }

    static AMQP.BasicProperties toProperties(TransportMessage message) {
        Map<String, Object> headers = new LinkedHashMap<>(message.headers());
        headers.putIfAbsent(OutboxHeaders.MESSAGE_ID, message.id());
        if (message.key() != null) {
            headers.putIfAbsent(OutboxHeaders.MESSAGE_KEY, message.key());
        }
        Object contentType = headers.getOrDefault(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
        return new AMQP.BasicProperties.Builder()
                .deliveryMode(2) // persistent
                .contentType(contentType.toString())
                .contentEncoding("UTF-8")
                .messageId(message.id())
                .headers(headers)
                .build();
    }

    static String fallbackId(String queue, String routingKey, Map<String, String> headers, byte[] body) {
        MessageDigest digest = sha256();
        update(digest, queue);
        update(digest, routingKey == null ? "" : routingKey);
        new TreeMap<>(headers).forEach((name, value) -> {
            if (!name.startsWith("x-")) {
                update(digest, name);
                update(digest, value);
            }
        });
        digest.update(body);
        byte[] hash = Arrays.copyOf(digest.digest(), FALLBACK_HASH_BYTES);
        return FALLBACK_ID_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    }

    /** AMQP header values are typed; the outbox's are text. Byte strings are read as UTF-8. */
    static String headerText(Object value) {
        if (value instanceof LongString longString) {
            return new String(longString.getBytes(), StandardCharsets.UTF_8);
        }
        if (value instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return value.toString();
    }

    private static void update(MessageDigest digest, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        // length-prefixed, so that ("ab", "c") and ("a", "bc") differ
        digest.update(new byte[] {
            (byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16), (byte) (bytes.length >>> 8), (byte) bytes.length
        });
        digest.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
