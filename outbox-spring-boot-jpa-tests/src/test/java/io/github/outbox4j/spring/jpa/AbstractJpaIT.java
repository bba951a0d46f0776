package io.github.outbox4j.spring.jpa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.spring.jpa.JpaApplication.Payments;
import io.github.outbox4j.spring.jpa.JpaApplication.StockMove;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The starter in an application on Spring Data JPA, where the transaction manager is Spring Boot's
 * {@link JpaTransactionManager} and Hibernate writes the entities at the commit's flush: against a real database
 * and a real broker, one subclass per pair. A payment's entities and its message commit together, and a flush that
 * fails at the commit sends nothing; a handler's entity commits with its inbox row, and a flush that fails at the
 * handler's commit leaves the message to be retried, applied once when it succeeds.
 */
@SpringBootTest(
        classes = JpaApplication.class,
        properties = {
            "spring.application.name=jpa",
            "spring.jpa.hibernate.ddl-auto=create",
            "spring.jpa.open-in-view=false",
            "outbox.retry.immediate-attempts=1",
            "outbox.retry.first-delay=500ms",
            "outbox.retry.interval=500ms",
            "outbox.retry.max-attempts=1000",
            "outbox.retry.poll-interval=200ms",
            "outbox.shutdown-timeout=5s",
            "spring.datasource.hikari.maximum-pool-size=24"
        })
@DirtiesContext
abstract class AbstractJpaIT {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final AtomicLong ORDER_IDS = new AtomicLong(1000);

    /** The context of the running class, for {@link #dropTables()}: null when the class was skipped. */
    private static ConfigurableApplicationContext context;

    @Autowired
    Payments payments;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    Environment environment;

    @Autowired
    PlatformTransactionManager transactionManager;

    /** The names one test class uses, with a random suffix. */
    static Map<String, String> jpaProperties(DynamicPropertyRegistry registry) {
        String suffix = "%08x".formatted(ThreadLocalRandom.current().nextInt());
        Map<String, String> properties = Map.of(
                "scenario.suffix", suffix,
                "scenario.topic", "order.paid.jpa." + suffix,
                "outbox.storage.published-table", "msg_published_" + suffix,
                "outbox.storage.received-table", "msg_received_" + suffix);
        properties.forEach((key, value) -> registry.add(key, () -> value));
        return properties;
    }

    @BeforeEach
    void keepContext(@Autowired ConfigurableApplicationContext applicationContext) {
        context = applicationContext;
    }

    @Test
    void theTransactionManagerIsSpringBootsJpaTransactionManager() {
        assertThat(transactionManager).isInstanceOf(JpaTransactionManager.class);
    }

    @Test
    void aPaymentsEntitiesAndItsMessageCommitTogetherAndTheConsumersEntityOnce() {
        long orderId = newOrder(3);

        assertThat(payments.pay(orderId, "R-" + orderId).orderId()).isEqualTo(orderId);

        assertThat(jdbc.queryForObject(
                        "SELECT status FROM " + table("orders") + " WHERE id = ?", String.class, orderId))
                .isEqualTo("PAID");
        assertThat(count(table("receipts"), "order_id = ?", orderId)).isOne();
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(stockMoves(orderId)).containsExactly(-3));
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                outboxTable("received-table"), "status = 'SUCCEEDED' AND msg_key = ?", key(orderId)))
                        .isOne());
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                outboxTable("published-table"), "status = 'SUCCEEDED' AND msg_key = ?", key(orderId)))
                        .isOne());
    }

    @Test
    void anEntityRefusedAtTheCommitsFlushSendsNothing() {
        long first = newOrder(1);
        long refused = newOrder(2);
        payments.pay(first, "R-shared-" + first);

        // the same receipt number: Hibernate inserts the receipt at the flush, after the method has returned and
        // the message has been published in the transaction; the primary key refuses it there
        assertThatThrownBy(() -> payments.pay(refused, "R-shared-" + first))
                .isInstanceOf(DataIntegrityViolationException.class);

        assertThat(jdbc.queryForObject(
                        "SELECT status FROM " + table("orders") + " WHERE id = ?", String.class, refused))
                .as("the order's change rolled back")
                .isEqualTo("NEW");
        assertThat(count(outboxTable("published-table"), "msg_key = ?", key(refused)))
                .as("the message rolled back with it")
                .isZero();
        long after = newOrder(4);
        payments.pay(after, "R-" + after);
        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(stockMoves(after)).containsExactly(-4));
        assertThat(stockMoves(first)).containsExactly(-1);
        assertThat(stockMoves(refused))
                .as("nothing was sent for the refused payment")
                .isEmpty();
    }

    @Test
    void aHandlersEntityRefusedAtItsCommitIsRetriedAndAppliedOnce() {
        long orderId = newOrder(5);
        // a stock move that is there already: the handler's insert of the same key fails at its commit's flush
        jdbc.update(
                "INSERT INTO " + table("stock_moves") + " (id, order_id, quantity) VALUES (?, ?, 0)",
                StockMove.idOf(orderId),
                orderId);

        payments.pay(orderId, "R-" + orderId);

        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                outboxTable("received-table"),
                                "status = 'RETRYING' AND attempts >= 2 AND msg_key = ?",
                                key(orderId)))
                        .isOne());
        assertThat(jdbc.queryForObject(
                        "SELECT last_error FROM " + outboxTable("received-table") + " WHERE msg_key = ?",
                        String.class,
                        key(orderId)))
                .as("the attempts failed at the flush")
                .startsWith(DataIntegrityViolationException.class.getName())
                .containsIgnoringCase("duplicate");
        assertThat(stockMoves(orderId))
                .as("the failed attempts changed nothing")
                .containsExactly(0);

        jdbc.update("DELETE FROM " + table("stock_moves") + " WHERE id = ?", StockMove.idOf(orderId));

        await().atMost(DEADLINE)
                .untilAsserted(() -> assertThat(count(
                                outboxTable("received-table"), "status = 'SUCCEEDED' AND msg_key = ?", key(orderId)))
                        .isOne());
        assertThat(stockMoves(orderId)).containsExactly(-5);
    }

    /**
     * Closes the outbox and drops the class's tables; {@code @DirtiesContext} closes the context afterwards.
     */
    @AfterAll
    static void dropTables() {
        if (context == null) {
            return;
        }
        context.getBean(Outbox.class).close();
        Environment environment = context.getEnvironment();
        JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
        String suffix = environment.getRequiredProperty("scenario.suffix");
        for (String table : List.of(
                "orders_" + suffix,
                "receipts_" + suffix,
                "stock_moves_" + suffix,
                environment.getRequiredProperty("outbox.storage.published-table"),
                environment.getRequiredProperty("outbox.storage.received-table"))) {
            jdbc.execute("DROP TABLE IF EXISTS " + table);
        }
        context.getBeansOfType(BrokerCleanup.class).values().forEach(cleanup -> cleanup.clean(environment));
        context = null;
    }

    /** Removes what a test class left in its broker (queues, exchanges); a bean of the subclass's configuration. */
    interface BrokerCleanup {
        void clean(Environment environment);
    }

    private long newOrder(int quantity) {
        long orderId = ORDER_IDS.incrementAndGet();
        jdbc.update(
                "INSERT INTO " + table("orders") + " (id, status, quantity) VALUES (?, 'NEW', ?)", orderId, quantity);
        return orderId;
    }

    private List<Integer> stockMoves(long orderId) {
        return jdbc.queryForList(
                "SELECT quantity FROM " + table("stock_moves") + " WHERE order_id = ?", Integer.class, orderId);
    }

    private long count(String table, String where, Object argument) {
        Long count = jdbc.queryForObject("SELECT COUNT(*) FROM " + table + " WHERE " + where, Long.class, argument);
        return count == null ? 0 : count;
    }

    /** A message's key: the order id, from {@code key = "#orderId"}. */
    private static String key(long orderId) {
        return String.valueOf(orderId);
    }

    private String table(String entityTable) {
        return entityTable + "_" + environment.getRequiredProperty("scenario.suffix");
    }

    private String outboxTable(String property) {
        return environment.getRequiredProperty("outbox.storage." + property);
    }
}
