package io.github.outbox4j.examples.order;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ResponseStatus;

/** The order does not exist or is not {@code NEW}: the payment rolls back, and nothing is published. */
@ResponseStatus(HttpStatus.CONFLICT)
public class OrderNotPayableException extends RuntimeException {
    OrderNotPayableException(long orderId) {
        super("Order " + orderId + " does not exist or is not NEW");
    }
}
