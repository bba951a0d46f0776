package io.github.outbox4j.examples.demo;

import io.github.outbox4j.examples.order.NewOrder;
import io.github.outbox4j.examples.order.Orders;
import io.github.outbox4j.examples.order.PaymentService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Places orders in the order service and pays them: half one by one ({@code @TransactionalPublish}), half in
 * settlements of ten ({@code OutboxPublisher}, ten messages in one transaction).
 */
public final class OrderLoad {
    private static final List<String> SKUS = List.of("BOOK-1", "MUG-1", "TEE-1");
    private static final int SETTLEMENT_SIZE = 10;

    private final Orders orders;
    private final PaymentService payments;

    public OrderLoad(Shop shop) {
        this.orders = shop.bean(Shop.ORDER, Orders.class);
        this.payments = shop.bean(Shop.ORDER, PaymentService.class);
    }

    /** Places and pays {@code count} orders; returns their ids. */
    public List<Long> payOrders(int count) {
        List<Long> ids = IntStream.range(0, count)
                .mapToObj(i -> orders.place(newOrder(i)).id())
                .toList();
        int half = count / 2;
        ids.subList(0, half).forEach(payments::pay);
        for (List<Long> settlement : chunks(ids.subList(half, count))) {
            payments.settle(settlement);
        }
        return ids;
    }

    /**
     * Waits until every consumer has applied every paid order, or {@code deadline} has passed; returns the last
     * report.
     */
    public static ShopReport awaitConsistent(Shop shop, Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        ShopReport report = ShopReport.of(shop);
        while (!report.consistent() && System.nanoTime() < end) {
            Thread.sleep(200);
            report = ShopReport.of(shop);
        }
        return report;
    }

    private static NewOrder newOrder(int i) {
        return new NewOrder(1 + i % 50, SKUS.get(i % SKUS.size()), 1 + i % 3, 999 + 100L * (i % 40));
    }

    private static List<List<Long>> chunks(List<Long> ids) {
        List<List<Long>> chunks = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += SETTLEMENT_SIZE) {
            chunks.add(ids.subList(from, Math.min(from + SETTLEMENT_SIZE, ids.size())));
        }
        return chunks;
    }
}
