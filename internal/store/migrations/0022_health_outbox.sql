-- connection.status_changed comes from health_events: the same outbox flag as appointment_events
-- (0021). Earlier changes are not delivered.
ALTER TABLE health_events ADD COLUMN fanned_out INTEGER NOT NULL DEFAULT 0;
UPDATE health_events SET fanned_out = 1;
CREATE INDEX health_events_to_fan_out ON health_events (id) WHERE fanned_out = 0;
