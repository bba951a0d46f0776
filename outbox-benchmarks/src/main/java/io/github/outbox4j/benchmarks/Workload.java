package io.github.outbox4j.benchmarks;

import io.github.outbox4j.ConnectionPublisher;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.internal.MessageIds;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The business transaction every scenario runs: an order row is inserted, and an {@code order.paid} message
 * published with it. Also the hand-written equivalent the publish overhead is compared with: the same order row plus
 * one row written straight into the outbox table, shaped like the library's. Thread-safe.
 */
final class Workload {
    /** The message: the reference scenario's {@code order.paid}. */
    record OrderPaid(long orderId, long amountCents, String sku, int quantity) {}

    /**
     * When the hand-written rows are due: never, within a run. They take the same index entries as the library's
     * PENDING rows, but the engine running next to them must not send them.
     */
    private static final Instant NEVER_DUE = Instant.parse("2999-01-01T00:00:00Z");

    private final Stack stack;
    private final RunNames names;
    private final String insertOrder;
    private final String insertHandWritten;
    private final AtomicLong orderIds = new AtomicLong();
    // the library's own id generator, so that both variants insert the same key distribution into the same index
    private final MessageIds messageIds = new MessageIds(Clock.systemUTC());

    Workload(Stack stack, RunNames names) {
        this.stack = stack;
        this.names = names;
        this.insertOrder =
                "INSERT INTO " + names.orders() + " (id, status, amount_cents, created_at) VALUES (?, 'PAID', ?, ?)";
        this.insertHandWritten = "INSERT INTO " + names.published() + " (" + Stack.OUTBOX_COLUMNS + ")"
                + " VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, NULL, NULL, 0)";
    }

    long nextOrderId() {
        return orderIds.incrementAndGet();
    }

    String insertOrderSql() {
        return insertOrder;
    }

    Object[] orderParameters(long orderId) {
        return new Object[] {orderId, 1999L, stack.timestamp(Instant.now())};
    }

    String insertHandWrittenSql() {
        return insertHandWritten;
    }

    /** The parameters of one hand-written outbox row: what the library would store for {@link #message}. */
    Object[] handWrittenParameters(long orderId) {
        String id = messageIds.next();
        String key = Long.toString(orderId);
        String headers = "{\"outbox-msg-id\":\"" + id + "\",\"outbox-msg-name\":\"" + names.topic()
                + "\",\"outbox-msg-key\":\"" + key + "\",\"outbox-corr-id\":\"" + id
                + "\",\"content-type\":\"application/json\"}";
        String payload = "{\"orderId\":" + orderId + ",\"amountCents\":1999,\"sku\":\"sku-1\",\"quantity\":2}";
        return new Object[] {
            id, names.topic(), key, headers, payload, stack.timestamp(Instant.now()), stack.timestamp(NEVER_DUE)
        };
    }

    /** Told the id of a message the moment its transaction has committed, before it is dispatched. */
    @FunctionalInterface
    interface CommitListener {
        void committed(String messageId);
    }

    /**
     * The business transaction with the library: inserts an order and publishes its message to {@code topic} with
     * {@code headers} through {@link Outbox#publisher(Connection)}, commits, tells {@code listener}, then hands the
     * message to the dispatcher.
     */
    void pay(DataSource dataSource, Outbox outbox, String topic, Map<String, String> headers, CommitListener listener)
            throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            long orderId = nextOrderId();
            insertOrder(connection, orderId);
            ConnectionPublisher publisher = outbox.publisher(connection);
            String id = publisher.publish(message(topic, orderId, headers));
            connection.commit();
            listener.committed(id);
            publisher.committed();
        }
    }

    /**
     * One transaction paying {@code orders} orders, each with its message to {@code topic}: several publishes
     * committed together, then handed to the dispatcher together.
     */
    void payAll(DataSource dataSource, Outbox outbox, String topic, int orders) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            ConnectionPublisher publisher = outbox.publisher(connection);
            for (int i = 0; i < orders; i++) {
                long orderId = nextOrderId();
                insertOrder(connection, orderId);
                publisher.publish(message(topic, orderId, Map.of()));
            }
            connection.commit();
            publisher.committed();
        }
    }

    /** The same transaction without the library: the order and a hand-written outbox row. */
    void payByHand(DataSource dataSource) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            long orderId = nextOrderId();
            insertOrder(connection, orderId);
            insertHandWritten(connection, orderId);
            connection.commit();
        }
    }

    void insertOrder(Connection connection, long orderId) throws SQLException {
        execute(connection, insertOrder, orderParameters(orderId));
    }

    void insertHandWritten(Connection connection, long orderId) throws SQLException {
        execute(connection, insertHandWritten, handWrittenParameters(orderId));
    }

    static OrderPaid payload(long orderId) {
        return new OrderPaid(orderId, 1999, "sku-1", 2);
    }

    OutboxMessage message(long orderId, Map<String, String> headers) {
        return message(names.topic(), orderId, headers);
    }

    OutboxMessage message(String topic, long orderId, Map<String, String> headers) {
        return OutboxMessage.builder(topic, payload(orderId))
                .key(Long.toString(orderId))
                .headers(headers)
                .build();
    }

    private static void execute(Connection connection, String sql, Object[] parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            statement.executeUpdate();
        }
    }
}
