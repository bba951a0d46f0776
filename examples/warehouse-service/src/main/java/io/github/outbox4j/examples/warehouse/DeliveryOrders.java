package io.github.outbox4j.examples.warehouse;

import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Creates the outbound delivery order of a paid order. To show a retry, the first attempt of every
 * {@code warehouse.fail-first-attempt-every}-th order fails (0, the default, turns this off) — after its insert, which
 * rolls back with the attempt: the retry creates the only delivery order.
 */
@Component
class DeliveryOrders {
    private static final Logger log = LoggerFactory.getLogger(DeliveryOrders.class);

    private final JdbcClient jdbc;
    private final int failFirstAttemptEvery;

    DeliveryOrders(JdbcClient jdbc, @Value("${warehouse.fail-first-attempt-every:0}") int failFirstAttemptEvery) {
        this.jdbc = jdbc;
        this.failFirstAttemptEvery = failFirstAttemptEvery;
    }

    @Subscribe(topic = "order.paid", group = "warehouse")
    void createDeliveryOrder(OrderPaid order, ReceivedMessage message) {
        jdbc.sql("INSERT INTO delivery_order (order_id, sku, quantity, status) VALUES (?, ?, ?, 'CREATED')")
                .params(order.orderId(), order.sku(), order.quantity())
                .update();
        if (message.attempt() == 1 && failFirstAttemptEvery > 0 && order.orderId() % failFirstAttemptEvery == 0) {
            log.warn("warehouse: attempt 1 for order {} fails on purpose; the outbox retries it", order.orderId());
            throw new IllegalStateException("The warehouse system did not answer (simulated)");
        }
        log.info(
                "warehouse: delivery order created for order {} ({} x {}, attempt {})",
                order.orderId(),
                order.quantity(),
                order.sku(),
                message.attempt());
    }
}
