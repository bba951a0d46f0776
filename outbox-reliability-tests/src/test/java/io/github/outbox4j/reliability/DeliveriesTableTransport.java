package io.github.outbox4j.reliability;

import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The "broker" of {@link PublisherCrashIT}: a message counts as received once a row {@code (message_id,
 * order_id)} is committed in the deliveries table, which outlives the publishing process. The table has no
 * unique constraint, so a duplicate delivery shows as a second row.
 *
 * <p>Each send is answered after a fixed latency, like a broker across a network: it keeps messages in
 * flight when the process is killed, which is the window only the retry processor can recover. Inserts use
 * the data source given (its own pool, not the outbox's). Thread-safe.
 */
final class DeliveriesTableTransport implements OutboxTransport {
    private static final Pattern ORDER_ID = Pattern.compile("\"orderId\"\\s*:\\s*(\\d+)");

    private final DataSource broker;
    private final String insert;
    private final Duration latency;
    private final ScheduledExecutorService network = Executors.newScheduledThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "deliveries-broker");
        thread.setDaemon(true);
        return thread;
    });

    DeliveriesTableTransport(DataSource broker, String deliveriesTable, Duration latency) {
        this.broker = broker;
        this.insert = "INSERT INTO " + deliveriesTable + " (message_id, order_id) VALUES (?, ?)";
        this.latency = latency;
    }

    @Override
    public String name() {
        return "deliveries-table";
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        CompletableFuture<Void> acknowledged = new CompletableFuture<>();
        network.schedule(
                () -> {
                    try {
                        deliver(message);
                        acknowledged.complete(null);
                    } catch (SQLException | RuntimeException e) {
                        acknowledged.completeExceptionally(e);
                    }
                },
                latency.toMillis(),
                TimeUnit.MILLISECONDS);
        return acknowledged;
    }

    private void deliver(TransportMessage message) throws SQLException {
        String body = new String(message.body(), StandardCharsets.UTF_8);
        Matcher orderId = ORDER_ID.matcher(body);
        if (!orderId.find()) {
            throw new IllegalArgumentException("No orderId in " + body);
        }
        try (Connection connection = broker.getConnection();
                PreparedStatement statement = connection.prepareStatement(insert)) {
            connection.setAutoCommit(true);
            statement.setString(1, message.id());
            statement.setLong(2, Long.parseLong(orderId.group(1)));
            statement.executeUpdate();
        }
    }

    @Override
    public void close() {
        network.shutdownNow();
    }
}
