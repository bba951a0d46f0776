package io.github.outbox4j.examples.order;

import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
class OrderController {
    private final Orders orders;
    private final PaymentService payments;

    OrderController(Orders orders, PaymentService payments) {
        this.orders = orders;
        this.payments = payments;
    }

    @PostMapping("/orders")
    @ResponseStatus(HttpStatus.CREATED)
    Order place(@RequestBody NewOrder order) {
        return orders.place(order);
    }

    @GetMapping("/orders/{id}")
    ResponseEntity<Order> find(@PathVariable long id) {
        return ResponseEntity.of(orders.find(id));
    }

    /** Pays one order ({@code @TransactionalPublish}). */
    @PostMapping("/orders/{id}/pay")
    OrderPaid pay(@PathVariable long id) {
        return payments.pay(id);
    }

    /** Pays several orders in one transaction ({@code OutboxPublisher}); the body is their ids, e.g. {@code [2, 3]}. */
    @PostMapping("/settlements")
    List<OrderPaid> settle(@RequestBody List<Long> orderIds) {
        return payments.settle(orderIds);
    }
}
