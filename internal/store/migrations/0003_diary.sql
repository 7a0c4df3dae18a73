-- The local copy of each practice's EMIS diary, and the sync's bookkeeping.

CREATE TABLE diary_sessions (
    practice_id      INTEGER NOT NULL REFERENCES practices(id),
    session_id       BIGINT NOT NULL,          -- EMIS DBID
    date             TEXT NOT NULL,            -- yyyy-mm-dd, Europe/London
    start_at         BIGINT NOT NULL,          -- instants, Unix ms
    end_at           BIGINT NOT NULL,
    slot_length      INTEGER NOT NULL,
    name             TEXT NOT NULL,
    site_id          BIGINT NOT NULL,
    holder_ids       TEXT NOT NULL,            -- space-separated EMIS holder DBIDs
    summary_hash     TEXT NOT NULL,            -- hash of the session element as EMIS sent it
    slots_synced_at  BIGINT,                   -- when its slots were last read (NULL: never)
    PRIMARY KEY (practice_id, session_id)
);
CREATE INDEX diary_sessions_date ON diary_sessions (practice_id, date);

CREATE TABLE diary_slots (
    practice_id  INTEGER NOT NULL REFERENCES practices(id),
    slot_id      BIGINT NOT NULL,              -- EMIS DBID
    session_id   BIGINT NOT NULL,
    start_at     BIGINT NOT NULL,              -- instant, Unix ms
    length_min   INTEGER NOT NULL,
    type_id      INTEGER NOT NULL,
    status       TEXT NOT NULL,                -- Available, Booked, Blocked, Embargoed
    patient_id   BIGINT,                       -- EMIS number when booked
    PRIMARY KEY (practice_id, slot_id)
);
CREATE INDEX diary_slots_session ON diary_slots (practice_id, session_id);
CREATE INDEX diary_slots_start ON diary_slots (practice_id, start_at);

CREATE TABLE sync_state (
    practice_id           INTEGER PRIMARY KEY REFERENCES practices(id),
    first_sync_done       INTEGER NOT NULL DEFAULT 0,
    last_success_at       BIGINT,
    last_attempt_at       BIGINT,
    last_error            TEXT NOT NULL DEFAULT '',
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    sessions              INTEGER NOT NULL DEFAULT 0,
    slots                 INTEGER NOT NULL DEFAULT 0,
    progress_done         INTEGER NOT NULL DEFAULT 0,  -- first sync: sessions whose slots are read
    progress_total        INTEGER NOT NULL DEFAULT 0
);
