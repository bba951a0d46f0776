package io.github.outbox4j.examples.membership;

import io.github.outbox4j.annotation.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Credits the member with one point per whole currency unit paid. Runs in the inbox transaction, so each paid order
 * earns its points once.
 */
@Component
class Points {
    private static final Logger log = LoggerFactory.getLogger(Points.class);

    private final JdbcClient jdbc;

    Points(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    // two consumers: the topic's partitions are shared between them
    @Subscribe(topic = "order.paid", group = "membership", concurrency = "2")
    void earnPoints(OrderPaid order) {
        long points = order.amountCents() / 100;
        jdbc.sql("INSERT INTO points_entry (order_id, member_id, points) VALUES (?, ?, ?)")
                .params(order.orderId(), order.memberId(), points)
                .update();
        log.info("membership: member {} earned {} points for order {}", order.memberId(), points, order.orderId());
    }
}
