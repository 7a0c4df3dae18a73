-- The search's "is this slot held or booked?" test reads only these columns: with them in the
-- index it never visits the table, which matters on busy days when the near-term slots a
-- search walks past are mostly held or just booked.
DROP INDEX appointments_slot;
CREATE INDEX appointments_slot ON appointments (practice_id, slot_id, state, reserved_until);
