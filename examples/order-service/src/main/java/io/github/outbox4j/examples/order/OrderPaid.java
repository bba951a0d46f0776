package io.github.outbox4j.examples.order;

/** The message of topic {@code order.paid}: everything its consumers need, so they never call back. */
public record OrderPaid(long orderId, long memberId, String sku, int quantity, long amountCents) {

    static OrderPaid of(Order order) {
        return new OrderPaid(order.id(), order.memberId(), order.sku(), order.quantity(), order.amountCents());
    }
}
