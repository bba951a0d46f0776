package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.OutboxTransactionRequiredException;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The Spring transaction integration against a real PostgreSQL, with the in-memory transport: the outbox row joins
 * the Spring transaction, messages go out at its commit (an inner REQUIRES_NEW one at its own), a rollback sends
 * nothing, and a handler's JdbcTemplate writes commit with its inbox row.
 */
class SpringTransactionsIT {
    private static DataSource database;

    private TestTables tables;
    private String effects;
    private ApplicationContextRunner runner;

    record OrderPaid(long orderId) {}

    @BeforeAll
    static void database() {
        database = TestServices.postgres();
    }

    @BeforeEach
    void setUp() {
        tables = TestTables.create(database);
        effects = "effects_"
                + tables.publishedTable().substring(tables.publishedTable().lastIndexOf('_') + 1);
        new JdbcTemplate(database)
                .execute("CREATE TABLE " + effects + " (group_name VARCHAR(100) NOT NULL, order_id BIGINT NOT NULL)");
        runner = new ApplicationContextRunner()
                .withConfiguration(StarterTestSupport.outboxAutoConfigurations())
                .withConfiguration(AutoConfigurations.of(
                        DataSourceTransactionManagerAutoConfiguration.class,
                        TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class,
                        JacksonAutoConfiguration.class))
                // not the pool itself: the context would close it, and the pool is shared by the JVM's tests
                .withBean(DataSource.class, () -> new DelegatingDataSource(database))
                .withPropertyValues(
                        "outbox.transport=in-memory",
                        "outbox.storage.published-table=" + tables.publishedTable(),
                        "outbox.storage.received-table=" + tables.receivedTable(),
                        "outbox.retry.immediate-backoff=10ms",
                        "test.effects=" + effects);
    }

    @AfterEach
    void tearDown() {
        tables.close();
        new JdbcTemplate(database).execute("DROP TABLE IF EXISTS " + effects);
    }

    @Test
    void messagesOfOneTransactionGoOutAtItsCommit() {
        runner.run(context -> {
            InMemoryTransport transport = context.getBean(InMemoryTransport.class);
            OutboxPublisher publisher = context.getBean(OutboxPublisher.class);
            transactions(context).executeWithoutResult(status -> {
                publisher.publish("order.paid", new OrderPaid(1));
                publisher.publish("order.paid", new OrderPaid(2));
                publisher.publish("order.shipped", new OrderPaid(1));
                assertThat(transport.sent()).as("nothing before the commit").isEmpty();
                assertThat(rowsSeenByAnotherConnection()).as("uncommitted").isZero();
            });
            await().atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertThat(transport.sent())
                            .extracting(TransportMessage::topic)
                            .containsExactlyInAnyOrder("order.paid", "order.paid", "order.shipped"));
            assertThat(rowsSeenByAnotherConnection()).isEqualTo(3);
        });
    }

    @Test
    void aRollbackSendsNothing() {
        runner.run(context -> {
            InMemoryTransport transport = context.getBean(InMemoryTransport.class);
            OutboxPublisher publisher = context.getBean(OutboxPublisher.class);
            transactions(context).executeWithoutResult(status -> {
                publisher.publish("order.paid", new OrderPaid(1));
                status.setRollbackOnly();
            });
            assertThat(rowsSeenByAnotherConnection()).isZero();
            // a later message is sent: had the rolled back one been queued, it would have gone first
            transactions(context).executeWithoutResult(status -> publisher.publish("barrier", new OrderPaid(2)));
            await().atMost(Duration.ofSeconds(20)).until(() -> !transport.sent().isEmpty());
            assertThat(transport.sent()).extracting(TransportMessage::topic).containsExactly("barrier");
        });
    }

    @Test
    void anInnerRequiresNewTransactionSendsAtItsOwnCommit() {
        runner.run(context -> {
            InMemoryTransport transport = context.getBean(InMemoryTransport.class);
            OutboxPublisher publisher = context.getBean(OutboxPublisher.class);
            TransactionTemplate requiresNew = transactions(context);
            requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
            transactions(context).executeWithoutResult(outer -> {
                publisher.publish("outer", new OrderPaid(1));
                requiresNew.executeWithoutResult(inner -> publisher.publish("inner", new OrderPaid(2)));
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> !transport.sent().isEmpty());
                assertThat(transport.sent()).extracting(TransportMessage::topic).containsExactly("inner");
                outer.setRollbackOnly();
            });
            transactions(context).executeWithoutResult(status -> publisher.publish("barrier", new OrderPaid(3)));
            await().atMost(Duration.ofSeconds(20)).until(() -> transport.sent().size() == 2);
            assertThat(transport.sent()).extracting(TransportMessage::topic).containsExactly("inner", "barrier");
            assertThat(rowsSeenByAnotherConnection()).isEqualTo(2);
        });
    }

    @Test
    void publishingOutsideATransactionFails() {
        runner.run(context -> assertThatThrownBy(
                        () -> context.getBean(OutboxPublisher.class).publish("order.paid", new OrderPaid(1)))
                .isInstanceOf(OutboxTransactionRequiredException.class)
                .hasMessageContaining("@Transactional"));
    }

    @Test
    void aHandlersJdbcTemplateWritesCommitWithItsInboxRowOnce() {
        runner.withBean(FlakyInventory.class).run(context -> {
            OutboxPublisher publisher = context.getBean(OutboxPublisher.class);
            transactions(context).executeWithoutResult(status -> publisher.publish("order.paid", new OrderPaid(7)));
            JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> jdbc.queryForObject(
                                    "SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'SUCCEEDED'",
                                    Long.class)
                            == 1);
            assertThat(jdbc.queryForList("SELECT order_id FROM " + effects, Long.class))
                    .as("the failed first attempt's write was rolled back with it")
                    .containsExactly(7L);
            assertThat(context.getBean(FlakyInventory.class).attempts).containsExactly(1, 2);
        });
    }

    /** Writes its effect, and fails its first attempt after writing. */
    static class FlakyInventory {
        final List<Integer> attempts = new CopyOnWriteArrayList<>();
        private final JdbcTemplate jdbc;
        private final String effects;

        FlakyInventory(JdbcTemplate jdbc, @Value("${test.effects}") String effects) {
            this.jdbc = jdbc;
            this.effects = effects;
        }

        @Subscribe(topic = "order.paid", group = "inventory")
        void deductStock(OrderPaid event, ReceivedMessage message) {
            attempts.add(message.attempt());
            jdbc.update(
                    "INSERT INTO " + effects + " (group_name, order_id) VALUES (?, ?)",
                    message.group(),
                    event.orderId());
            if (message.attempt() == 1) {
                throw new IllegalStateException("stock service hiccup");
            }
        }
    }

    private static TransactionTemplate transactions(AssertableApplicationContext context) {
        return new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
    }

    private long rowsSeenByAnotherConnection() {
        return new JdbcTemplate(database).queryForObject("SELECT count(*) FROM " + tables.publishedTable(), Long.class);
    }
}
