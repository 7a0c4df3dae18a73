-- What an idempotent request made (an appointment or patient id), written in the same
-- transaction as the operation itself: a request whose process died before its answer was
-- kept is answered from it on retry, never run again.
ALTER TABLE idempotency_keys ADD COLUMN result_ref TEXT NOT NULL DEFAULT '';
