-- the membership service's business table in MySQL's and MariaDB's dialect (db/postgresql/membership.sql for
-- PostgreSQL); the outbox tables (msg_published, msg_received) are created by Outbox4j
-- one row per credit: a member's balance is the sum of their entries
CREATE TABLE IF NOT EXISTS points_entry (
    order_id     BIGINT    NOT NULL,
    member_id    BIGINT    NOT NULL,
    points       BIGINT    NOT NULL,
    credited_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
