-- A slot is free only once EMIS has confirmed it free. A cancelled booking whose undoing in
-- EMIS is still to be written (emis_written set) or whose last write's outcome is unknown
-- (write_unknown) still occupies its slot: the one-per-slot index and the free-slot search
-- count it, so the slot is not offered again, and no second booking fails with a false
-- "slot taken", while EMIS still holds herolink's appointment or placeholder there.
--
-- Rows cancelled before this rule shared their slot with a later booking; those keep the old
-- behaviour (slot_released_early = 1), so the index can be built on any existing database.
ALTER TABLE appointments ADD COLUMN slot_released_early INTEGER NOT NULL DEFAULT 0;
UPDATE appointments SET slot_released_early = 1
    WHERE state = 'cancelled' AND (emis_written != '' OR write_unknown = 1)
    AND EXISTS (SELECT 1 FROM appointments o WHERE o.practice_id = appointments.practice_id
        AND o.slot_id = appointments.slot_id AND o.id != appointments.id
        AND (o.state IN ('reserved', 'confirming', 'booked', 'placeholder')
            OR (o.state = 'cancelled' AND (o.emis_written != '' OR o.write_unknown = 1))));
DROP INDEX IF EXISTS appointments_one_live_per_slot;
CREATE UNIQUE INDEX appointments_one_live_per_slot ON appointments (practice_id, slot_id)
    WHERE state IN ('reserved', 'confirming', 'booked', 'placeholder')
    OR (state = 'cancelled' AND (emis_written != '' OR write_unknown = 1) AND slot_released_early = 0);
-- The search's "is this slot occupied?" test stays index-only (see 0010).
DROP INDEX IF EXISTS appointments_slot;
CREATE INDEX appointments_slot ON appointments (practice_id, slot_id, state, reserved_until, emis_written, write_unknown, slot_released_early);

-- When each live booking was last read back from EMIS by the verifier (internal/booking/verify.go);
-- 0: never. The verifier takes the longest unverified first.
ALTER TABLE appointments ADD COLUMN verified_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX appointments_verify ON appointments (state, verified_at);
