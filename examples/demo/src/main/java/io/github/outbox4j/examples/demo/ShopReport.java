package io.github.outbox4j.examples.demo;

/**
 * What the services' databases say: the paid orders, and per consumer its rows and the orders they cover. All is
 * well when every consumer has exactly one row per paid order.
 */
public record ShopReport(long paidOrders, Effect stockDeductions, Effect pointsEntries, Effect deliveryOrders) {

    /** A consumer's rows, and how many distinct orders they belong to. */
    public record Effect(long rows, long orders) {
        static Effect of(Shop shop, String service, String table) {
            return new Effect(
                    shop.count(service, "SELECT count(*) FROM " + table),
                    shop.count(service, "SELECT count(DISTINCT order_id) FROM " + table));
        }
    }

    public static ShopReport of(Shop shop) {
        return new ShopReport(
                shop.count(Shop.ORDER, "SELECT count(*) FROM orders WHERE status = 'PAID'"),
                Effect.of(shop, Shop.INVENTORY, "stock_deduction"),
                Effect.of(shop, Shop.MEMBERSHIP, "points_entry"),
                Effect.of(shop, Shop.WAREHOUSE, "delivery_order"));
    }

    /** Every consumer has exactly one row for each paid order. */
    public boolean consistent() {
        return exactlyOnePerPaidOrder(stockDeductions)
                && exactlyOnePerPaidOrder(pointsEntries)
                && exactlyOnePerPaidOrder(deliveryOrders);
    }

    private boolean exactlyOnePerPaidOrder(Effect effect) {
        return effect.rows() == paidOrders && effect.orders() == paidOrders;
    }

    @Override
    public String toString() {
        return "orders PAID: %d, stock deductions: %d, points entries: %d, delivery orders: %d"
                .formatted(paidOrders, stockDeductions.rows(), pointsEntries.rows(), deliveryOrders.rows());
    }
}
