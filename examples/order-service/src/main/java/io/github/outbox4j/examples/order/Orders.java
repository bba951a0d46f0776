package io.github.outbox4j.examples.order;

import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.stereotype.Repository;

/** Table {@code orders}. */
@Repository
public class Orders {
    private final JdbcClient jdbc;

    Orders(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public Order place(NewOrder order) {
        GeneratedKeyHolder id = new GeneratedKeyHolder();
        jdbc.sql("INSERT INTO orders (member_id, sku, quantity, amount_cents, status) VALUES (?, ?, ?, ?, 'NEW')")
                .params(order.memberId(), order.sku(), order.quantity(), order.amountCents())
                .update(id, "id");
        // a Long from PostgreSQL's driver, a BigInteger from MySQL's
        return find(id.getKey().longValue()).orElseThrow();
    }

    public Optional<Order> find(long id) {
        return jdbc.sql("SELECT id, member_id, sku, quantity, amount_cents, status FROM orders WHERE id = ?")
                .param(id)
                .query(Order.class)
                .optional();
    }

    /** Marks a {@code NEW} order {@code PAID}; fails when there is no such order, or it is paid already. */
    Order markPaid(long id) {
        int updated = jdbc.sql("UPDATE orders SET status = 'PAID', paid_at = now() WHERE id = ? AND status = 'NEW'")
                .param(id)
                .update();
        if (updated != 1) {
            throw new OrderNotPayableException(id);
        }
        return find(id).orElseThrow();
    }

    public long countPaid() {
        return jdbc.sql("SELECT count(*) FROM orders WHERE status = 'PAID'")
                .query(Long.class)
                .single();
    }
}
