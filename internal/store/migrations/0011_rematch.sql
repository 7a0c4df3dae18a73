-- When the write-back last searched EMIS for a booking's patient: a placeholder is searched
-- again every so often, so a patient reception registers later is booked automatically.
ALTER TABLE appointments ADD COLUMN matched_at BIGINT;
