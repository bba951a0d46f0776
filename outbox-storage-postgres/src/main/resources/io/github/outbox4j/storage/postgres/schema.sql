-- Outbox4j tables for PostgreSQL 12+.
--
-- Written for the default names msg_published and msg_received. Outbox4j runs it at start when
-- outbox.storage.initialize-schema=true, replacing the names with the configured ones; Flyway or Liquibase users
-- copy it as a migration (rename the tables, and the index prefixes, if they configure other names).
-- Every statement is idempotent.
--
-- Times are timestamptz and always written as UTC instants by Outbox4j.
-- next_attempt_at is when a row is next due; it is NULL once the row is final (SUCCEEDED or FAILED), so the
-- partial indexes below only hold rows that still have work to do or may still be purged.

CREATE TABLE IF NOT EXISTS msg_published (
    id              varchar(128) NOT NULL,
    topic           varchar(255) NOT NULL,
    msg_key         varchar(255),
    headers         text         NOT NULL,
    payload         text         NOT NULL,
    status          varchar(16)  NOT NULL,
    attempts        integer      NOT NULL,
    added_at        timestamptz  NOT NULL,
    next_attempt_at timestamptz,
    expires_at      timestamptz,
    last_error      text,
    version         integer      NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT msg_published_status_check CHECK (status IN ('PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED'))
);

-- Serves the claim: WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?.
-- Final rows are left out, so the index stays small however many SUCCEEDED rows are kept.
CREATE INDEX IF NOT EXISTS msg_published_due_idx
    ON msg_published (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Serves the cleanup: WHERE expires_at < ? LIMIT ?.
CREATE INDEX IF NOT EXISTS msg_published_expiry_idx
    ON msg_published (expires_at) WHERE expires_at IS NOT NULL;

-- Serves the health check's count of FAILED rows and the browsing of them, newest first, without reading the
-- SUCCEEDED rows kept for the retention. Rows enter it only when they fail.
CREATE INDEX IF NOT EXISTS msg_published_failed_idx
    ON msg_published (added_at) WHERE status = 'FAILED';

CREATE TABLE IF NOT EXISTS msg_received (
    id              varchar(128) NOT NULL,
    group_name      varchar(200) NOT NULL,
    topic           varchar(255) NOT NULL,
    msg_key         varchar(255),
    headers         text         NOT NULL,
    payload         text         NOT NULL,
    status          varchar(16)  NOT NULL,
    attempts        integer      NOT NULL,
    added_at        timestamptz  NOT NULL,
    next_attempt_at timestamptz,
    expires_at      timestamptz,
    last_error      text,
    version         integer      NOT NULL,
    -- one row per message and consumer group: a second delivery to the same group is detected here
    PRIMARY KEY (id, group_name),
    CONSTRAINT msg_received_status_check CHECK (status IN ('PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED'))
);

-- Serves the claim: WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?.
CREATE INDEX IF NOT EXISTS msg_received_due_idx
    ON msg_received (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- Serves the cleanup: WHERE expires_at < ? LIMIT ?.
CREATE INDEX IF NOT EXISTS msg_received_expiry_idx
    ON msg_received (expires_at) WHERE expires_at IS NOT NULL;

-- Serves the health check's count of FAILED rows and the browsing of them.
CREATE INDEX IF NOT EXISTS msg_received_failed_idx
    ON msg_received (added_at) WHERE status = 'FAILED';
