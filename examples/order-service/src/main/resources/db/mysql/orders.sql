-- the order service's business table in MySQL's and MariaDB's dialect (db/postgresql/orders.sql for PostgreSQL); the
-- outbox tables (msg_published, msg_received) are created by Outbox4j
CREATE TABLE IF NOT EXISTS orders (
    id           BIGINT      AUTO_INCREMENT PRIMARY KEY,
    member_id    BIGINT      NOT NULL,
    sku          VARCHAR(40) NOT NULL,
    quantity     INT         NOT NULL,
    amount_cents BIGINT      NOT NULL,
    status       VARCHAR(16) NOT NULL,
    paid_at      TIMESTAMP   NULL
);
