package io.github.outbox4j.examples.inventory;

/**
 * The message of topic {@code order.paid}, as this service reads it: its own copy of the JSON's shape, so that the
 * services share no code (fields it does not need could be left out).
 */
public record OrderPaid(long orderId, long memberId, String sku, int quantity, long amountCents) {}
