-- Bookings: holds, confirmations and what herolink wrote into EMIS; the patients partners
-- register; the link from a patient to an EMIS record; and each practice's booking policy.

ALTER TABLE practices ADD COLUMN hold_minutes INTEGER NOT NULL DEFAULT 15 CHECK (hold_minutes BETWEEN 1 AND 120);
ALTER TABLE practices ADD COLUMN cancel_cutoff_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (cancel_cutoff_minutes >= 0);

-- A patient as a partner registered them. Demographics are kept because matching and the
-- placeholder's notes need them; they are never logged.
CREATE TABLE patients (
    id                 TEXT PRIMARY KEY,             -- pat_...
    practice_group_id  TEXT NOT NULL REFERENCES practice_groups(id),
    nhs_number         TEXT NOT NULL DEFAULT '',
    family_name        TEXT NOT NULL DEFAULT '',
    given_name         TEXT NOT NULL DEFAULT '',
    date_of_birth      TEXT NOT NULL DEFAULT '',     -- yyyy-mm-dd
    postcode           TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    phone              TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL
);
CREATE INDEX patients_group ON patients (practice_group_id);

-- The EMIS record a patient is linked to at one practice: by the matching rules or by staff.
CREATE TABLE patient_links (
    patient_id       TEXT NOT NULL REFERENCES patients(id),
    practice_id      INTEGER NOT NULL REFERENCES practices(id),
    emis_patient_id  BIGINT NOT NULL,
    rule             TEXT NOT NULL,                  -- the matching rule, or 'staff'
    linked_by        TEXT NOT NULL,
    linked_at        BIGINT NOT NULL,
    PRIMARY KEY (patient_id, practice_id)
);

-- One row per hold. A hold becomes a booking when confirmed. The state machine:
--   reserved -> confirming -> booked | placeholder | failed
--   reserved -> expired (time ran out) | cancelled
--   confirming | booked | placeholder -> cancelled (EMIS is told by the write-back job)
--   placeholder -> booked (patient linked later)
-- emis_written says what herolink has put into EMIS for it; write_unknown marks an attempt
-- whose outcome was not seen (a timeout), so the next attempt reads the slot back first.
CREATE TABLE appointments (
    id                   TEXT PRIMARY KEY,           -- apt_...
    reference            TEXT NOT NULL UNIQUE,       -- HL-..., written into EMIS's notes
    practice_group_id    TEXT NOT NULL REFERENCES practice_groups(id),
    practice_id          INTEGER NOT NULL REFERENCES practices(id),
    api_key_id           TEXT NOT NULL DEFAULT '',
    slot_id              BIGINT NOT NULL,            -- EMIS slot DBID
    session_id           BIGINT NOT NULL,
    start_at             BIGINT NOT NULL,
    length_min           INTEGER NOT NULL,
    emis_slot_type_id    INTEGER NOT NULL,
    appointment_type_id  INTEGER REFERENCES appointment_types(id),
    state                TEXT NOT NULL CHECK (state IN
                             ('reserved', 'expired', 'confirming', 'booked', 'placeholder', 'failed', 'cancelled')),
    reserved_until       BIGINT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    comment              TEXT NOT NULL DEFAULT '',
    patient_id           TEXT REFERENCES patients(id),
    emis_patient_id      BIGINT,                     -- the EMIS record it is (to be) booked against
    match_rule           TEXT NOT NULL DEFAULT '',
    emis_written         TEXT NOT NULL DEFAULT '' CHECK (emis_written IN ('', 'appointment', 'placeholder')),
    write_unknown        INTEGER NOT NULL DEFAULT 0,
    write_attempts       INTEGER NOT NULL DEFAULT 0,
    emis_calls           INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT NOT NULL DEFAULT '',
    failure_code         TEXT NOT NULL DEFAULT '',
    alternatives         TEXT NOT NULL DEFAULT '[]', -- JSON list of slot ids offered instead
    confirmed_at         BIGINT,
    alerted_at           BIGINT,                     -- staff were alerted that EMIS is not answering
    written_at           BIGINT,
    cancelled_at         BIGINT,
    cancelled_by         TEXT NOT NULL DEFAULT '',   -- partner, staff, emis, reschedule
    cancel_reason        TEXT NOT NULL DEFAULT '',
    rescheduled_from     TEXT REFERENCES appointments(id),
    rescheduled_to       TEXT REFERENCES appointments(id),
    lease_until          BIGINT,                     -- a write-back worker owns it until then
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
-- Two live holds or bookings on one slot are impossible: the database refuses the second.
CREATE UNIQUE INDEX appointments_one_live_per_slot ON appointments (practice_id, slot_id)
    WHERE state IN ('reserved', 'confirming', 'booked', 'placeholder');
CREATE INDEX appointments_state ON appointments (state, reserved_until);
CREATE INDEX appointments_group ON appointments (practice_group_id, created_at);

-- What happened to each appointment, in order: the partner's timeline and the outbox from
-- which webhooks will be sent.
CREATE TABLE appointment_events (
    id              INTEGER PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments(id),
    at              BIGINT NOT NULL,
    event           TEXT NOT NULL,                  -- appointment.reserved, appointment.confirmed, ...
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX appointment_events_appointment ON appointment_events (appointment_id, id);

-- Where each reader of a durable feed got to.
CREATE TABLE feed_cursors (
    name     TEXT PRIMARY KEY,
    last_id  BIGINT NOT NULL
);
