-- A lease names its holder, so a worker that outlived its lease cannot end the next one's; and
-- a booking has at most one reschedule in flight: two would both be written into EMIS.
ALTER TABLE appointments ADD COLUMN lease_token TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX appointments_one_live_reschedule ON appointments (rescheduled_from)
    WHERE rescheduled_from IS NOT NULL AND state IN ('reserved', 'confirming', 'booked', 'placeholder');
