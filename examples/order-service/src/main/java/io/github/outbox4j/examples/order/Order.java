package io.github.outbox4j.examples.order;

/** A row of table {@code orders}; {@code status} is {@code NEW} or {@code PAID}. */
public record Order(long id, long memberId, String sku, int quantity, long amountCents, String status) {}
