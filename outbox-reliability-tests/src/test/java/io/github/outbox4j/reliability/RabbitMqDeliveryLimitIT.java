package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A consumer's database down while messages arrive on a RabbitMQ quorum queue that drops a message returned to it
 * more than once ({@code x-delivery-limit: 1}; since RabbitMQ 4.0 quorum queues have a limit of 20 by default). An
 * order service on PostgreSQL publishes; the inventory service consumes into its own MariaDB server, which is
 * stopped for real. Its inbox refuses every delivery until the server is back: a consumer that requeued them would
 * lose them to the limit, so it must keep them and try again, and each message must be applied exactly once.
 *
 * <p>{@value Scale#PROPERTY} multiplies the messages.
 */
class RabbitMqDeliveryLimitIT {
    private static final String GROUP = "inventory";
    private static final int MESSAGES = Scale.of(50);
    /** Refusals of a delivery that, requeued each time, would have taken it past the limit of 1. */
    private static final int REFUSALS = 3;

    /** The payload. */
    public record StockReserved(int sequence) {}

    private final RabbitMqFixture rabbitMq = new RabbitMqFixture();
    private final DataSource orders = TestServices.postgres();
    private final LogLines consumerLog = LogLines.of("io.github.outbox4j.rabbitmq.GroupConsumer");
    private TestTables orderTables;
    private PrivateMariaDb inventoryServer;
    private HikariDataSource inventory;
    private TestTables inventoryTables;
    private String effects;
    private String topic;
    private Outbox orderService;
    private Outbox inventoryService;

    @BeforeEach
    void setUp() throws Exception {
        orderTables = TestTables.create(orders);
        inventoryServer = PrivateMariaDb.launch();
        // an inbox call during the outage fails in 1.5 s
        inventory = inventoryServer.pool("delivery-limit-inventory", 10, Duration.ofMillis(1500));
        inventoryTables = TestTables.create(inventory);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "stock.reserved." + suffix;
        Effects.createTable(inventory, effects);
    }

    @AfterEach
    void tearDown() throws Exception {
        consumerLog.close();
        if (inventoryService != null) {
            inventoryService.close();
        }
        if (orderService != null) {
            orderService.close();
        }
        rabbitMq.close();
        if (inventory != null) {
            inventory.close();
        }
        if (inventoryServer != null) {
            inventoryServer.close();
        }
        orderTables.close();
    }

    @Test
    void messagesTheInboxRefusesDuringAnOutageAreKeptNotDroppedByTheQueuesDeliveryLimit() throws Exception {
        Map<String, Object> quorumQueueWithDeliveryLimit = Map.of("x-queue-type", "quorum", "x-delivery-limit", 1);
        orderService = Outbox.builder()
                .dataSource(orders)
                .storageOptions(orderTables.options())
                .transport(rabbitMq.newTransport(quorumQueueWithDeliveryLimit))
                .build();
        rabbitMq.groupWillSubscribe(GROUP);
        inventoryService = Outbox.builder()
                .dataSource(inventory)
                .storageOptions(inventoryTables.options())
                .transport(rabbitMq.newTransport(quorumQueueWithDeliveryLimit))
                .build();
        inventoryService.subscribe(topic, GROUP, StockReserved.class, 1, (StockReserved payload, ReceivedMessage m) -> {
            Effects.apply(effects, m, payload.sequence());
            return null;
        });
        inventoryService.start();
        orderService.start();
        Set<String> committed = ConcurrentHashMap.newKeySet();
        Effects applied = new Effects(inventory, effects);
        committed.add(publish(0));
        await().atMost(Duration.ofSeconds(30)).until(() -> applied.lost(committed) == 0);

        inventoryServer.stop(false);
        for (int sequence = 1; sequence <= MESSAGES; sequence++) {
            committed.add(publish(sequence));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> refusals() >= REFUSALS);
        inventoryServer.start();

        applied.awaitSettled(inventoryTables.options(), committed, Duration.ofMinutes(2));
        System.out.printf(
                "[delivery-limit] RabbitMQ quorum queue, x-delivery-limit 1, inventory database stopped: messages=%d,"
                        + " deliveries refused by the inbox and kept=%d, lost=%d, applied twice=%d%n",
                committed.size(), refusals(), applied.lost(committed), applied.appliedTwice());
        assertThat(applied.lost(committed))
                .as("committed messages never applied")
                .isZero();
        assertThat(applied.appliedTwice()).as("messages applied twice").isZero();
        assertThat(rabbitMq.messageCount(GROUP))
                .as("messages left in the queue")
                .isZero();
    }

    private String publish(int sequence) {
        return orderService.inTransaction(
                (connection, publisher) -> publisher.publish(topic, new StockReserved(sequence)));
    }

    /** The consumers' WARN lines for a batch the inbox could not take. */
    private long refusals() {
        return consumerLog.count(Level.WARN, " could not take ");
    }
}
