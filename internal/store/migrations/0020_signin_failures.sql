-- Failed staff sign-ins per account and per client address, shared by every instance on the
-- database and kept across restarts (issue 10): the lock cannot be dodged by landing on another
-- instance or waiting for a deploy. Rows whose window has passed and whose lock has ended are
-- purged by housekeeping.
CREATE TABLE signin_failures (
    kind          TEXT NOT NULL CHECK (kind IN ('account', 'address')),
    key           TEXT NOT NULL,
    count         INTEGER NOT NULL,
    first_at      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, key)
);
