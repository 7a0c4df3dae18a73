-- Every instance answers slot searches from an index of each practice's free slots kept in
-- memory (store/freeslotindex.go). It is only as good as its knowledge of changes, so the
-- database itself counts them: any write to a row that decides whether a slot is free bumps
-- the practice's counters, in the writer's own transaction, whoever the writer is (sync,
-- mapping, holds, write-back, staff, another instance). A search reads the counters first and
-- rebuilds what moved. Two counters: 'diary' (the synced diary and the mapping: rebuilt
-- rarely) and 'booked' (herolink's own appointments: overlaid on the diary). 'booked' is
-- spread over 16 shards by slot so that holds on one practice do not queue on one row; a
-- reader sums them. The diary counter has its own shard (-1), so a long sync transaction
-- never holds up a hold.
CREATE TABLE slot_versions (
    practice_id  INTEGER NOT NULL,
    shard        INTEGER NOT NULL,
    diary        INTEGER NOT NULL DEFAULT 0,
    booked       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (practice_id, shard)
);

CREATE TRIGGER diary_slots_insert_slot_version AFTER INSERT ON diary_slots BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER diary_slots_delete_slot_version AFTER DELETE ON diary_slots BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER diary_slots_update_slot_version AFTER UPDATE OF slot_id, session_id, start_at, length_min, type_id, status ON diary_slots BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER diary_sessions_insert_slot_version AFTER INSERT ON diary_sessions BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER diary_sessions_delete_slot_version AFTER DELETE ON diary_sessions BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER diary_sessions_update_slot_version AFTER UPDATE OF session_id, site_id, holder_ids ON diary_sessions BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER emis_slot_types_insert_slot_version AFTER INSERT ON emis_slot_types BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER emis_slot_types_delete_slot_version AFTER DELETE ON emis_slot_types BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER emis_slot_types_update_slot_version AFTER UPDATE OF emis_id, feature, gone ON emis_slot_types BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER locations_insert_slot_version AFTER INSERT ON locations BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER locations_delete_slot_version AFTER DELETE ON locations BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER locations_update_slot_version AFTER UPDATE OF practice_id, emis_site_id ON locations BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (OLD.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.practice_id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER practices_update_slot_version AFTER UPDATE OF practice_group_id ON practices BEGIN
    INSERT INTO slot_versions (practice_id, shard, diary) VALUES (NEW.id, -1, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET diary = diary + 1;
END;
CREATE TRIGGER appointments_insert_slot_version AFTER INSERT ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (NEW.practice_id, NEW.slot_id % 16, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
CREATE TRIGGER appointments_delete_slot_version AFTER DELETE ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (OLD.practice_id, OLD.slot_id % 16, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
CREATE TRIGGER appointments_update_slot_version AFTER UPDATE OF practice_id, slot_id, state, reserved_until, emis_written, write_unknown, slot_released_early ON appointments BEGIN
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (OLD.practice_id, OLD.slot_id % 16, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
    INSERT INTO slot_versions (practice_id, shard, booked) VALUES (NEW.practice_id, NEW.slot_id % 16, 1)
        ON CONFLICT (practice_id, shard) DO UPDATE SET booked = booked + 1;
END;
