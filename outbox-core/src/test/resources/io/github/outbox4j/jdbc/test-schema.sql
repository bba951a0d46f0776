-- A schema script written for the default names, the way the dialect modules ship theirs.
-- msg_published and msg_received in comments are dropped, not executed.

CREATE TABLE IF NOT EXISTS msg_published (
    id              VARCHAR(36)  NOT NULL,
    topic           VARCHAR(255) NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    CONSTRAINT msg_published_pk PRIMARY KEY (id)
);

-- serves the claim: due rows by status, then time
CREATE INDEX IF NOT EXISTS msg_published_status_next_idx ON msg_published (status, next_attempt_at);

CREATE TABLE IF NOT EXISTS msg_received (
    id              VARCHAR(36)  NOT NULL,
    group_name      VARCHAR(200) NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    CONSTRAINT msg_received_pk PRIMARY KEY (id, group_name)
);
  -- an indented comment
CREATE INDEX IF NOT EXISTS msg_received_status_next_idx ON msg_received (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS msg_received_expires_idx ON msg_received (status, next_attempt_at)
