-- The diary counter of diary_slots moved once per row: a plpgsql call and an upsert of the
-- practice's counter row for every one of the 1,800 slots of a first sync. The sync writes
-- many slots a statement now, so the counter moves once per statement instead, from the
-- statement's transition tables: still in the writer's own transaction, whoever the writer is.
-- A statement that changes no row moves nothing (the SELECT finds no practice).
-- Transition tables rule out a column list on the UPDATE trigger, so any update of a slot
-- moves the counter (an update of its patient alone did not): more rebuilds of the index,
-- never fewer.
DROP TRIGGER diary_slots_slot_version ON diary_slots;

CREATE FUNCTION bump_diary_version_of_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO slot_versions (practice_id, shard, diary)
            SELECT practice_id, -1, 1 FROM new_rows GROUP BY practice_id ORDER BY practice_id
            ON CONFLICT (practice_id, shard) DO UPDATE SET diary = slot_versions.diary + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO slot_versions (practice_id, shard, diary)
            SELECT practice_id, -1, 1 FROM old_rows GROUP BY practice_id ORDER BY practice_id
            ON CONFLICT (practice_id, shard) DO UPDATE SET diary = slot_versions.diary + 1;
    ELSE
        INSERT INTO slot_versions (practice_id, shard, diary)
            SELECT practice_id, -1, 1 FROM (SELECT practice_id FROM old_rows UNION SELECT practice_id FROM new_rows) AS p
            ORDER BY practice_id
            ON CONFLICT (practice_id, shard) DO UPDATE SET diary = slot_versions.diary + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER diary_slots_insert_slot_version AFTER INSERT ON diary_slots
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_diary_version_of_statement();
CREATE TRIGGER diary_slots_delete_slot_version AFTER DELETE ON diary_slots
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_diary_version_of_statement();
CREATE TRIGGER diary_slots_update_slot_version AFTER UPDATE ON diary_slots
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_diary_version_of_statement();
