package io.github.outbox4j.spring.boot.actuate;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} actuator endpoint: what the outbox and inbox tables hold, and the two repairs a person makes.
 *
 * <ul>
 *   <li>{@code GET /actuator/outbox}: rows per status, for {@code published} and {@code received};
 *   <li>{@code GET /actuator/outbox/{kind}?status=FAILED&topic=order.paid&page=0&size=20}: a page of rows, newest
 *       first ({@code kind} is {@code published} or {@code received});
 *   <li>{@code GET /actuator/outbox/{kind}/{id}?group=inventory}: one row;
 *   <li>{@code POST /actuator/outbox/{kind}/{id}} (body {@code {"group": "inventory"}} for received rows): requeues a
 *       FAILED row, which then gets the retry policy's full attempts again;
 *   <li>{@code DELETE /actuator/outbox/{kind}/{id}?group=inventory}: deletes a row.
 * </ul>
 *
 * <p>Received rows are identified by message id and consumer group. Thread-safe.
 */
@Endpoint(id = "outbox")
public class OutboxEndpoint {
    static final int DEFAULT_PAGE_SIZE = 20;
    static final int MAX_PAGE_SIZE = 500;

    private final Supplier<OutboxStorage> storage;
    private final Clock clock;

    /**
     * @param storage the outbox's storage (looked up per call, so that the endpoint can be created before the outbox)
     * @param clock the outbox's clock: a requeued row is due at its "now"
     */
    public OutboxEndpoint(Supplier<OutboxStorage> storage, Clock clock) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Rows per status in both tables. */
    @ReadOperation
    public Summary summary() {
        OutboxStorage current = storage.get();
        return new Summary(counts(current, MessageKind.PUBLISHED), counts(current, MessageKind.RECEIVED));
    }

    /** A page of rows of one table, newest first, optionally of one status and one topic. */
    @ReadOperation
    public MessagePage messages(
            @Selector String kind,
            @Nullable MessageStatus status,
            @Nullable String topic,
            @Nullable Integer page,
            @Nullable Integer size) {
        MessageKind messageKind = kind(kind);
        int pageNumber = page == null ? 0 : page;
        int pageSize = size == null ? DEFAULT_PAGE_SIZE : size;
        if (pageNumber < 0) {
            throw new InvalidEndpointRequestException("page must be 0 or more, was " + pageNumber, "Invalid page");
        }
        if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
            throw new InvalidEndpointRequestException(
                    "size must be between 1 and " + MAX_PAGE_SIZE + ", was " + pageSize, "Invalid size");
        }
        String topicFilter = topic == null || topic.isBlank() ? null : topic;
        List<MessageDescriptor> messages = storage
                .get()
                .browse(messageKind, status, topicFilter, Math.multiplyExact(pageNumber, pageSize), pageSize)
                .stream()
                .map(MessageDescriptor::of)
                .toList();
        return new MessagePage(
                messageKind.name().toLowerCase(Locale.ROOT), status, topicFilter, pageNumber, pageSize, messages);
    }

    /** One row; {@code null} (404 over HTTP) when there is none. */
    @ReadOperation
    public @Nullable MessageDescriptor message(@Selector String kind, @Selector String id, @Nullable String group) {
        MessageKind messageKind = kind(kind);
        return storage.get()
                .find(messageKind, id, group(messageKind, group))
                .map(MessageDescriptor::of)
                .orElse(null);
    }

    /** Requeues a FAILED row: status RETRYING, attempts 0, due now. */
    @WriteOperation
    public Result requeue(@Selector String kind, @Selector String id, @Nullable String group) {
        MessageKind messageKind = kind(kind);
        String messageGroup = group(messageKind, group);
        boolean done = storage.get().requeue(messageKind, id, messageGroup, clock.instant());
        return new Result(
                "requeue",
                kind(messageKind),
                id,
                messageGroup,
                done,
                done ? "requeued: the retry processor takes it up at its next poll" : "no FAILED row with this id");
    }

    /** Deletes a row, whatever its status. */
    @DeleteOperation
    public Result delete(@Selector String kind, @Selector String id, @Nullable String group) {
        MessageKind messageKind = kind(kind);
        String messageGroup = group(messageKind, group);
        boolean done = storage.get().delete(messageKind, id, messageGroup);
        return new Result(
                "delete", kind(messageKind), id, messageGroup, done, done ? "deleted" : "no row with this id");
    }

    private static Map<MessageStatus, Long> counts(OutboxStorage storage, MessageKind kind) {
        Map<MessageStatus, Long> counts = new EnumMap<>(MessageStatus.class);
        for (MessageStatus status : MessageStatus.values()) {
            counts.put(status, 0L);
        }
        counts.putAll(storage.countByStatus(kind));
        return counts;
    }

    private static MessageKind kind(String kind) {
        return switch (kind.toLowerCase(Locale.ROOT)) {
            case "published" -> MessageKind.PUBLISHED;
            case "received" -> MessageKind.RECEIVED;
            default ->
                throw new InvalidEndpointRequestException(
                        "kind must be 'published' or 'received', was '" + kind + "'", "Invalid kind");
        };
    }

    private static String kind(MessageKind kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    private static @Nullable String group(MessageKind kind, @Nullable String group) {
        if (kind == MessageKind.PUBLISHED) {
            return null;
        }
        if (group == null || group.isBlank()) {
            throw new InvalidEndpointRequestException(
                    "a received message is identified by its id and its consumer group: pass group", "Missing group");
        }
        return group;
    }

    /**
     * Rows per status.
     *
     * @param published rows of the outbox table per status
     * @param received rows of the inbox table per status
     */
    public record Summary(Map<MessageStatus, Long> published, Map<MessageStatus, Long> received)
            implements OperationResponseBody {}

    /** A page of rows, newest first. */
    public record MessagePage(
            String kind,
            @Nullable MessageStatus status,
            @Nullable String topic,
            int page,
            int size,
            List<MessageDescriptor> messages)
            implements OperationResponseBody {}

    /** One row as the endpoint shows it; {@code payload} is the JSON text. */
    public record MessageDescriptor(
            String id,
            @Nullable String group,
            String topic,
            @Nullable String key,
            MessageStatus status,
            int attempts,
            Instant addedAt,
            @Nullable Instant nextAttemptAt,
            @Nullable Instant expiresAt,
            @Nullable String lastError,
            Map<String, String> headers,
            String payload)
            implements OperationResponseBody {

        static MessageDescriptor of(StoredMessage row) {
            return new MessageDescriptor(
                    row.id(),
                    row.group(),
                    row.topic(),
                    row.key(),
                    row.status(),
                    row.attempts(),
                    row.addedAt(),
                    row.nextAttemptAt(),
                    row.expiresAt(),
                    row.lastError(),
                    row.headers(),
                    row.payload());
        }
    }

    /** The outcome of a requeue or delete. */
    public record Result(
            String operation,
            String kind,
            String id,
            @Nullable String group,
            boolean done,
            String detail) implements OperationResponseBody {}
}
