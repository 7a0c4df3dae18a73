-- The same 64 'booked' shards as on PostgreSQL (see the .postgres.sql twin), so the rule is one.
-- SQLite has one writer, so it gains nothing here; readers sum a practice's rows, so counts made
-- under the old rule stay valid.
DROP TRIGGER appointments_insert_slot_version;
DROP TRIGGER appointments_delete_slot_version;
DROP TRIGGER appointments_update_slot_version;
CREATE TRIGGER appointments_insert_slot_version AFTER INSERT ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (NEW.practice_id, NEW.slot_id % 64, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
CREATE TRIGGER appointments_delete_slot_version AFTER DELETE ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (OLD.practice_id, OLD.slot_id % 64, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
CREATE TRIGGER appointments_update_slot_version AFTER UPDATE OF practice_id, slot_id, state, reserved_until, emis_written, write_unknown, slot_released_early ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (OLD.practice_id, OLD.slot_id % 64, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (NEW.practice_id, NEW.slot_id % 64, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
