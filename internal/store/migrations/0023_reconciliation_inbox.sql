-- The reconciliation inbox (issue 11).
-- How long a placeholder may wait for its patient before it is overdue: staff are notified
-- on the bookings page and appointment.placeholder_overdue is recorded, once. Per practice,
-- 10 minutes unless its staff change it.
ALTER TABLE practices ADD COLUMN placeholder_overdue_minutes INTEGER NOT NULL DEFAULT 10
    CHECK (placeholder_overdue_minutes BETWEEN 1 AND 1440);

-- What EMIS answered the last search for a placeholder's patient, and why matching linked
-- none of them: for the practice's own staff, who decide. Never shown to partners or support.
CREATE TABLE match_candidates (
    appointment_id  TEXT PRIMARY KEY REFERENCES appointments(id),
    searched_at     BIGINT NOT NULL,
    reason          TEXT NOT NULL,                 -- matching's sentence, without demographics
    candidates      TEXT NOT NULL                  -- JSON list of candidates with why each was not linked
);

-- The inbox's figures read the timeline (when each placeholder was written and resolved).
CREATE INDEX appointment_events_event_at ON appointment_events (event, at);
