-- The partner an API key acts for, kept across rotations (the first key's id). Appointments
-- (api_key_id) and patients belong to it, so one partner of a practice group can neither read
-- nor change another partner's bookings and patients.
ALTER TABLE api_keys ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
UPDATE api_keys SET owner_id = id WHERE owner_id = '';
ALTER TABLE patients ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
