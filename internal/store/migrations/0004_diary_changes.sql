-- Slot changes the sync found in EMIS, written in the same transaction as the diary: the durable
-- feed from which bookings made in herolink learn that EMIS cancelled or moved them, and from
-- which webhooks are sent. Kept for 7 days.
CREATE TABLE diary_changes (
    id           INTEGER PRIMARY KEY,
    practice_id  INTEGER NOT NULL REFERENCES practices(id),
    at           BIGINT NOT NULL,
    slot_id      BIGINT NOT NULL,
    session_id   BIGINT NOT NULL,
    old_status   TEXT NOT NULL,    -- '' for a slot that appeared
    new_status   TEXT NOT NULL,    -- '' for a slot that went
    old_patient  BIGINT NOT NULL,  -- EMIS numbers; 0 for none
    new_patient  BIGINT NOT NULL,
    old_type_id  INTEGER NOT NULL,
    new_type_id  INTEGER NOT NULL,
    moved        INTEGER NOT NULL
);
CREATE INDEX diary_changes_slot ON diary_changes (practice_id, slot_id);
CREATE INDEX diary_changes_at ON diary_changes (at);
