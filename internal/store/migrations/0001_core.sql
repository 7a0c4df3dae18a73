-- Practices, their EMIS connections and health, staff, audit. Times are Unix milliseconds (UTC),
-- ids are integers, so the same SQL serves SQLite and PostgreSQL.

CREATE TABLE practice_groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE practices (
    id                     INTEGER PRIMARY KEY,
    ods_code               TEXT NOT NULL UNIQUE,
    cdb                    INTEGER NOT NULL,
    name                   TEXT NOT NULL,
    practice_group_id      TEXT NOT NULL REFERENCES practice_groups(id),
    health_status          TEXT NOT NULL DEFAULT 'not_connected',
    health_reason          TEXT NOT NULL DEFAULT '',
    health_checked_at      BIGINT,
    next_health_check_at   BIGINT,
    consecutive_failures   INTEGER NOT NULL DEFAULT 0,
    credentials_rejected   INTEGER NOT NULL DEFAULT 0, -- EMIS refused the password: wait for new credentials
    created_at             BIGINT NOT NULL
);

-- One row per set of credentials ever proven. Exactly one is 'active' per practice; replaced
-- ones are kept (without their sealed password) for the history.
CREATE TABLE emis_connections (
    id               INTEGER PRIMARY KEY,
    practice_id      INTEGER NOT NULL REFERENCES practices(id),
    state            TEXT NOT NULL CHECK (state IN ('active', 'replaced', 'disconnected')),
    username         TEXT NOT NULL,
    password_sealed  BLOB,
    key_id           TEXT NOT NULL DEFAULT '',
    connected_by     TEXT NOT NULL,
    connected_at     BIGINT NOT NULL,
    ended_at         BIGINT,
    checklist        TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX emis_connections_one_active ON emis_connections (practice_id) WHERE state = 'active';

CREATE TABLE health_events (
    id           INTEGER PRIMARY KEY,
    practice_id  INTEGER NOT NULL REFERENCES practices(id),
    at           BIGINT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX health_events_practice ON health_events (practice_id, at);

CREATE TABLE staff_users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('support', 'practice')),
    practice_id    INTEGER REFERENCES practices(id),
    created_at     BIGINT NOT NULL,
    -- A practice user without a practice would see what support sees: forbid it.
    CHECK ((role = 'support' AND practice_id IS NULL) OR (role = 'practice' AND practice_id IS NOT NULL))
);

CREATE TABLE staff_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES staff_users(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    practice_id  INTEGER,
    detail       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE api_keys (
    id                 TEXT PRIMARY KEY,
    practice_group_id  TEXT NOT NULL REFERENCES practice_groups(id),
    name               TEXT NOT NULL,
    prefix             TEXT NOT NULL,
    key_hash           TEXT NOT NULL UNIQUE,
    scopes             TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    revoked_at         BIGINT
);
