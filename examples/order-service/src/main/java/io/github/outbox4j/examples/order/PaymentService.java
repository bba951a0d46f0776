package io.github.outbox4j.examples.order;

import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.annotation.TransactionalPublish;
import java.util.List;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Takes payments. An order becomes {@code PAID} and {@code order.paid} is written to the outbox in the same
 * transaction: both happen, or neither does; the message is sent right after the commit.
 */
@Service
public class PaymentService {
    public static final String ORDER_PAID = "order.paid";

    private final Orders orders;
    private final OutboxPublisher publisher;

    PaymentService(Orders orders, OutboxPublisher publisher) {
        this.orders = orders;
        this.publisher = publisher;
    }

    /** One payment: the returned event is published by the annotation, keyed by the order so its events stay in order. */
    @TransactionalPublish(topic = ORDER_PAID, key = "#result.orderId()")
    public OrderPaid pay(long orderId) {
        return OrderPaid.of(orders.markPaid(orderId));
    }

    /**
     * A settlement from the payment provider confirms many payments at once: one transaction, one message per order,
     * published with {@link OutboxPublisher}. All are sent after that one commit.
     */
    @Transactional
    public List<OrderPaid> settle(List<Long> orderIds) {
        return orderIds.stream().map(this::payAndPublish).toList();
    }

    private OrderPaid payAndPublish(long orderId) {
        OrderPaid event = OrderPaid.of(orders.markPaid(orderId));
        publisher.publish(OutboxMessage.builder(ORDER_PAID, event)
                .key(Long.toString(orderId))
                .build());
        return event;
    }
}
