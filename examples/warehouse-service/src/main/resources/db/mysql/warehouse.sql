-- the warehouse service's business table in MySQL's and MariaDB's dialect (db/postgresql/warehouse.sql for
-- PostgreSQL); the outbox tables (msg_published, msg_received) are created by Outbox4j
CREATE TABLE IF NOT EXISTS delivery_order (
    id         BIGINT      AUTO_INCREMENT PRIMARY KEY,
    order_id   BIGINT      NOT NULL,
    sku        VARCHAR(40) NOT NULL,
    quantity   INT         NOT NULL,
    status     VARCHAR(16) NOT NULL,
    created_at TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP
);
