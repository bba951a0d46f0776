package io.github.outbox4j.spring.jpa;

import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import jakarta.persistence.Entity;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Id;
import jakarta.persistence.PersistenceContext;
import jakarta.persistence.Table;
import org.hibernate.boot.model.naming.Identifier;
import org.hibernate.boot.model.naming.PhysicalNamingStrategy;
import org.hibernate.boot.model.naming.PhysicalNamingStrategySnakeCaseImpl;
import org.hibernate.engine.jdbc.env.spi.JdbcEnvironment;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.context.annotation.Bean;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;

/**
 * A Spring Boot application whose business data is JPA entities: paying an order loads it through a Spring Data
 * repository, marks it PAID (written by Hibernate at the commit's flush), persists a receipt (also inserted at the
 * flush) and publishes {@code order.paid} with {@code @TransactionalPublish}; a stock consumer persists a stock move
 * in its handler. Hibernate writes at the flush, after the method and the handler have returned, so a constraint
 * that refuses an entity fails the commit, not the call. Tables get the test class's suffix.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EntityScan(basePackageClasses = JpaApplication.class)
@EnableJpaRepositories(basePackageClasses = JpaApplication.class, considerNestedRepositories = true)
class JpaApplication {

    record OrderPaid(long orderId, int quantity) {}

    @Entity
    @Table(name = "orders")
    static class PurchaseOrder {
        @Id
        private Long id;

        private String status;
        private int quantity;

        protected PurchaseOrder() {}

        PurchaseOrder(long id, int quantity) {
            this.id = id;
            this.status = "NEW";
            this.quantity = quantity;
        }

        void pay() {
            status = "PAID";
        }
    }

    /** One per payment; its number is the primary key, so a second payment with the same number is refused. */
    @Entity
    @Table(name = "receipts")
    static class Receipt {
        @Id
        private String number;

        private Long orderId;

        protected Receipt() {}

        Receipt(String number, long orderId) {
            this.number = number;
            this.orderId = orderId;
        }
    }

    /** The stock consumer's effect: one per order, keyed by the order. */
    @Entity
    @Table(name = "stock_moves")
    static class StockMove {
        @Id
        private String id;

        private Long orderId;
        private int quantity;

        protected StockMove() {}

        StockMove(long orderId, int quantity) {
            this.id = idOf(orderId);
            this.orderId = orderId;
            this.quantity = quantity;
        }

        static String idOf(long orderId) {
            return "move-" + orderId;
        }
    }

    interface Orders extends JpaRepository<PurchaseOrder, Long> {}

    static class Payments {
        private final Orders orders;

        @PersistenceContext
        private EntityManager entityManager;

        Payments(Orders orders) {
            this.orders = orders;
        }

        @TransactionalPublish(topic = "${scenario.topic}", key = "#orderId")
        public OrderPaid pay(long orderId, String receiptNumber) {
            PurchaseOrder order = orders.findById(orderId).orElseThrow();
            order.pay();
            entityManager.persist(new Receipt(receiptNumber, orderId));
            return new OrderPaid(orderId, order.quantity);
        }
    }

    static class Stock {
        @PersistenceContext
        private EntityManager entityManager;

        @Subscribe(topic = "${scenario.topic}", group = "stock-${scenario.suffix}")
        void deduct(OrderPaid event, ReceivedMessage message) {
            entityManager.persist(new StockMove(event.orderId(), -event.quantity()));
        }
    }

    @Bean
    Payments payments(Orders orders) {
        return new Payments(orders);
    }

    @Bean
    Stock stock() {
        return new Stock();
    }

    /** The entities' tables carry the test class's suffix, so that runs sharing a database never meet. */
    @Bean
    PhysicalNamingStrategy suffixedTables(@Value("${scenario.suffix}") String suffix) {
        return new PhysicalNamingStrategySnakeCaseImpl() {
            @Override
            public Identifier toPhysicalTableName(Identifier name, JdbcEnvironment environment) {
                return super.toPhysicalTableName(
                        Identifier.toIdentifier(name.getText() + "_" + suffix, name.isQuoted()), environment);
            }
        };
    }
}
