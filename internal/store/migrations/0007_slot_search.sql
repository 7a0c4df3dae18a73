-- Slot search walks one practice's diary in (start, slot) order and stops after a page: the
-- index gives that order without sorting, and a plain index on appointments answers "is this
-- slot held?" for every candidate (the partial unique index cannot serve the OR in that test).
DROP INDEX diary_slots_start;
CREATE INDEX diary_slots_start ON diary_slots (practice_id, start_at, slot_id);
CREATE INDEX appointments_slot ON appointments (practice_id, slot_id);
