package io.github.outbox4j.examples.order;

/** The body of {@code POST /orders}. */
public record NewOrder(long memberId, String sku, int quantity, long amountCents) {}
