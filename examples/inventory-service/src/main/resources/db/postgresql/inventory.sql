-- the inventory service's business tables; the outbox tables (msg_published, msg_received) are created by Outbox4j
CREATE TABLE IF NOT EXISTS stock (
    sku      VARCHAR(40) PRIMARY KEY,
    quantity INT         NOT NULL
);

-- one row per deduction: a paid order deducted twice would show here twice
CREATE TABLE IF NOT EXISTS stock_deduction (
    order_id    BIGINT      NOT NULL,
    sku         VARCHAR(40) NOT NULL,
    quantity    INT         NOT NULL,
    deducted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO stock (sku, quantity) VALUES ('BOOK-1', 1000000), ('MUG-1', 1000000), ('TEE-1', 1000000)
ON CONFLICT (sku) DO NOTHING;
