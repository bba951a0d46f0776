package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.spring.boot.ScenarioApplication.Audit;
import io.github.outbox4j.spring.boot.ScenarioApplication.OrderService;
import io.github.outbox4j.spring.boot.ScenarioApplication.Payments;
import io.github.outbox4j.spring.boot.ScenarioApplication.Warehouse;
import io.github.outbox4j.spring.boot.actuate.OutboxEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The reference scenario end to end, against a real database and a real broker: one subclass per pair. An order
 * is paid through {@code @TransactionalPublish}; three {@code @Subscribe} consumers in different groups (inventory,
 * membership, warehouse) write their effects with {@code JdbcTemplate}, each exactly once, the warehouse after a
 * failed first attempt; a rolled-back payment sends nothing; a message whose consumer keeps failing is logged, ends
 * FAILED, is listed by the operations endpoint and requeued through it.
 *
 * <p>Every class uses its own tables, topics, groups (and RabbitMQ exchange), so runs in parallel never meet; the
 * tables are dropped when the class is done.
 */
@SpringBootTest(
        classes = ScenarioApplication.class,
        properties = {
            "spring.application.name=scenario",
            "management.endpoints.web.exposure.include=outbox,health",
            "outbox.retry.immediate-attempts=2",
            "outbox.retry.immediate-backoff=50ms",
            "outbox.retry.first-delay=1s",
            "outbox.retry.interval=1s",
            "outbox.retry.max-attempts=3",
            "outbox.retry.poll-interval=200ms",
            "outbox.alert.window=0s",
            "outbox.shutdown-timeout=5s",
            // the engine's threads may hold 20 with these subscriptions, and the test's own requests need a few
            "spring.datasource.hikari.maximum-pool-size=24"
        })
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
abstract class AbstractScenarioIT {
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final AtomicLong ORDER_IDS = new AtomicLong(1000);

    @Autowired
    Payments payments;

    @Autowired
    OrderService orders;

    @Autowired
    Warehouse warehouse;

    @Autowired
    Audit audit;

    @Autowired
    OutboxEndpoint endpoint;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    Environment environment;

    @Autowired
    MeterRegistry meters;

    /** The names one test class uses, with a random suffix. */
    static Map<String, String> scenarioProperties(DynamicPropertyRegistry registry) {
        String suffix = "%08x".formatted(ThreadLocalRandom.current().nextInt());
        Map<String, String> properties = Map.of(
                "scenario.suffix", suffix,
                "scenario.topic", "order.paid." + suffix,
                "scenario.refund-topic", "order.refunded." + suffix,
                "scenario.orders-table", "orders_" + suffix,
                "scenario.effects-table", "effects_" + suffix,
                "outbox.storage.published-table", "msg_published_" + suffix,
                "outbox.storage.received-table", "msg_received_" + suffix);
        properties.forEach((key, value) -> registry.add(key, () -> value));
        return properties;
    }

    /** The context of the running class, for {@link #dropTables()}: null when the class was skipped. */
    private static ConfigurableApplicationContext context;

    @BeforeEach
    void createTables(@Autowired ConfigurableApplicationContext applicationContext) {
        context = applicationContext;
        jdbc.execute("CREATE TABLE IF NOT EXISTS " + property("scenario.orders-table")
                + " (id BIGINT PRIMARY KEY, status VARCHAR(20) NOT NULL)");
        jdbc.execute("CREATE TABLE IF NOT EXISTS " + property("scenario.effects-table")
                + " (consumer VARCHAR(40) NOT NULL, order_id BIGINT NOT NULL)");
    }

    @Test
    void aPaidOrderReachesEveryConsumerExactlyOnce() {
        long orderId = newOrder();

        assertThat(payments.pay(orderId).orderId()).isEqualTo(orderId);

        assertThat(orderStatus(orderId)).isEqualTo("PAID");
        await().atMost(DEADLINE)
                .untilAsserted(() ->
                        assertThat(effects(orderId)).containsExactlyInAnyOrder("inventory", "membership", "warehouse"));
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                "outbox.storage.received-table",
                                "status = 'SUCCEEDED' AND payload LIKE ?",
                                idPattern(orderId)))
                        .isEqualTo(3));
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                "outbox.storage.published-table",
                                "status = 'SUCCEEDED' AND payload LIKE ?",
                                idPattern(orderId)))
                        .isEqualTo(1));
        assertThat(warehouse.attempts)
                .as("the warehouse failed once and succeeded on its retry")
                .contains(1, 2);
        // the failed attempt's effect was rolled back with it: still exactly one effect per consumer
        assertThat(effects(orderId)).hasSize(3);

        String topic = property("scenario.topic");
        String transport = property("outbox.transport");
        assertThat(meters.get("outbox.messages.sent")
                        .tag("topic", topic)
                        .tag("transport", transport)
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(meters.get("outbox.messages.handler.failures")
                        .tag("group", "warehouse-" + property("scenario.suffix"))
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(meters.get("outbox.messages.delivery")
                        .tag("topic", topic)
                        .timer()
                        .count())
                .isGreaterThanOrEqualTo(1L);
    }

    @Test
    void aRolledBackPaymentSendsNothing() {
        long failed = newOrder();
        long barrier = newOrder();

        assertThatThrownBy(() -> payments.payButFail(failed))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("declined");

        assertThat(orderStatus(failed)).as("the business write rolled back").isEqualTo("NEW");
        assertThat(count("outbox.storage.published-table", "payload LIKE ?", idPattern(failed)))
                .as("the outbox row rolled back with it")
                .isZero();
        payments.pay(barrier);
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(effects(barrier)).hasSize(3));
        assertThat(effects(failed)).isEmpty();
    }

    @Test
    void aFailedMessageIsLoggedListedAndRequeuedByTheEndpoint(CapturedOutput output) {
        long orderId = newOrder();
        String group = "audit-" + property("scenario.suffix");
        String topic = property("scenario.refund-topic");

        orders.refund(orderId, "damaged");

        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(endpoint.messages("received", MessageStatus.FAILED, topic, 0, 20)
                                .messages())
                        .singleElement()
                        .satisfies(message -> {
                            assertThat(message.group()).isEqualTo(group);
                            assertThat(message.attempts()).isEqualTo(3);
                            assertThat(message.lastError()).contains("read-only");
                        }));
        assertThat(endpoint.summary().received().get(MessageStatus.FAILED)).isGreaterThanOrEqualTo(1L);
        String id = endpoint.messages("received", MessageStatus.FAILED, topic, 0, 20)
                .messages()
                .get(0)
                .id();
        String handling = "WARN +\\[[^]]+] \\S+MessageProcessor - "
                + Pattern.quote("Handling message %s of topic '%s' for group '%s'".formatted(id, topic, group));
        assertThat(output.getOut())
                .as("each failure at WARN, with the handler's exception and where it was thrown")
                .containsPattern(handling + Pattern.quote(" failed (attempt 2 of 3); next attempt at "))
                .containsPattern(handling
                        + Pattern.quote(" FAILED after 3 attempts; it is kept for a manual requeue:"
                                + " java.lang.IllegalStateException: the audit log is read-only"))
                .contains("at " + Audit.class.getName() + ".recordRefund(");

        audit.failing = false;
        assertThat(endpoint.requeue("received", id, group).done()).isTrue();

        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(effects(orderId)).containsExactly("audit"));
        await().atMost(DEADLINE)
                .untilAsserted(
                        () -> assertThat(endpoint.message("received", id, group).status())
                                .isEqualTo(MessageStatus.SUCCEEDED));
    }

    /**
     * Closes the outbox, drops the class's tables and lets the subclass clean its broker; {@code @DirtiesContext}
     * closes the context afterwards.
     */
    @AfterAll
    static void dropTables() {
        if (context == null) {
            return;
        }
        context.getBean(Outbox.class).close();
        Environment environment = context.getEnvironment();
        JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
        for (String table : List.of(
                "scenario.orders-table",
                "scenario.effects-table",
                "outbox.storage.published-table",
                "outbox.storage.received-table")) {
            jdbc.execute("DROP TABLE IF EXISTS " + environment.getRequiredProperty(table));
        }
        context.getBeansOfType(BrokerCleanup.class).values().forEach(cleanup -> cleanup.clean(environment));
        context = null;
    }

    /** Removes what a test class left in its broker (queues, exchanges); a bean of the subclass's configuration. */
    interface BrokerCleanup {
        void clean(Environment environment);
    }

    private long newOrder() {
        long orderId = ORDER_IDS.incrementAndGet();
        jdbc.update("INSERT INTO " + property("scenario.orders-table") + " (id, status) VALUES (?, 'NEW')", orderId);
        return orderId;
    }

    private String orderStatus(long orderId) {
        return jdbc.queryForObject(
                "SELECT status FROM " + property("scenario.orders-table") + " WHERE id = ?", String.class, orderId);
    }

    private List<String> effects(long orderId) {
        return jdbc.queryForList(
                "SELECT consumer FROM " + property("scenario.effects-table") + " WHERE order_id = ?",
                String.class,
                orderId);
    }

    private long count(String tableProperty, String where, Object... arguments) {
        return jdbc.queryForObject(
                "SELECT count(*) FROM " + property(tableProperty) + " WHERE " + where, Long.class, arguments);
    }

    private static String idPattern(long orderId) {
        return "%\"orderId\":" + orderId + ",%";
    }

    private String property(String key) {
        return environment.getRequiredProperty(key);
    }
}
