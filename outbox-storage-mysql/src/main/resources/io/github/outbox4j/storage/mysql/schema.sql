-- Outbox4j tables for MySQL 8.0.1+ and MariaDB 10.6+ (InnoDB, utf8mb4).
--
-- Written for the default names msg_published and msg_received. Outbox4j runs it at start when
-- outbox.storage.initialize-schema=true, replacing the names with the configured ones; Flyway or Liquibase users
-- copy it as a migration (rename the tables, and the index and constraint prefixes, if they configure other
-- names). Every statement is idempotent. MySQL has no CREATE INDEX IF NOT EXISTS, so the indexes are declared
-- inside CREATE TABLE.
--
-- Times are datetime(6) holding UTC: Outbox4j converts every instant to UTC itself, so neither the JVM's nor the
-- server's time zone matters. next_attempt_at is when a row is next due; it is NULL once the row is final
-- (SUCCEEDED or FAILED). Binary collation: ids, groups and topics compare exactly, case included.
--
-- Indexes:
--   <table>_due_idx (next_attempt_at) serves the claim: WHERE next_attempt_at <= ? ORDER BY next_attempt_at
--     LIMIT ? FOR UPDATE SKIP LOCKED. Final rows sort first as NULLs, outside the range the claim reads.
--   <table>_expiry_idx (expires_at) serves the cleanup: DELETE ... WHERE expires_at < ? LIMIT ?.
--   The primary keys serve the claim's and the outcomes' updates by key; msg_received's (id, group_name) also
--   detects a second delivery of a message to the same consumer group.

CREATE TABLE IF NOT EXISTS msg_published (
    id              varchar(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    topic           varchar(255) NOT NULL,
    msg_key         varchar(255) NULL,
    headers         mediumtext   NOT NULL,
    payload         mediumtext   NOT NULL,
    status          varchar(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    attempts        int          NOT NULL,
    added_at        datetime(6)  NOT NULL,
    next_attempt_at datetime(6)  NULL,
    expires_at      datetime(6)  NULL,
    last_error      mediumtext   NULL,
    version         int          NOT NULL,
    PRIMARY KEY (id),
    KEY msg_published_due_idx (next_attempt_at),
    KEY msg_published_expiry_idx (expires_at),
    CONSTRAINT msg_published_status_check CHECK (status IN ('PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED'))
) ENGINE = InnoDB DEFAULT CHARACTER SET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS msg_received (
    id              varchar(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    group_name      varchar(200) NOT NULL,
    topic           varchar(255) NOT NULL,
    msg_key         varchar(255) NULL,
    headers         mediumtext   NOT NULL,
    payload         mediumtext   NOT NULL,
    status          varchar(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    attempts        int          NOT NULL,
    added_at        datetime(6)  NOT NULL,
    next_attempt_at datetime(6)  NULL,
    expires_at      datetime(6)  NULL,
    last_error      mediumtext   NULL,
    version         int          NOT NULL,
    PRIMARY KEY (id, group_name),
    KEY msg_received_due_idx (next_attempt_at),
    KEY msg_received_expiry_idx (expires_at),
    CONSTRAINT msg_received_status_check CHECK (status IN ('PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED'))
) ENGINE = InnoDB DEFAULT CHARACTER SET = utf8mb4 COLLATE = utf8mb4_bin;
