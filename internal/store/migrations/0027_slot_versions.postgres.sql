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
    practice_id  BIGINT NOT NULL,
    shard        BIGINT NOT NULL,
    diary        BIGINT NOT NULL DEFAULT 0,
    booked       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (practice_id, shard)
);

-- One function per counter; the trigger passes the shard rule as its argument.
CREATE FUNCTION bump_slot_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_practice bigint;
    v_shard bigint;
BEGIN
    FOR r IN SELECT * FROM (VALUES (1), (2)) AS side(n) LOOP
        IF r.n = 1 AND TG_OP IN ('DELETE', 'UPDATE') THEN
            IF TG_TABLE_NAME = 'practices' THEN v_practice := OLD.id; ELSE v_practice := OLD.practice_id; END IF;
            IF TG_ARGV[0] = 'booked' THEN v_shard := OLD.slot_id % 16; ELSE v_shard := -1; END IF;
        ELSIF r.n = 2 AND TG_OP IN ('INSERT', 'UPDATE') THEN
            IF TG_TABLE_NAME = 'practices' THEN v_practice := NEW.id; ELSE v_practice := NEW.practice_id; END IF;
            IF TG_ARGV[0] = 'booked' THEN v_shard := NEW.slot_id % 16; ELSE v_shard := -1; END IF;
        ELSE
            CONTINUE;
        END IF;
        IF TG_ARGV[0] = 'booked' THEN
            INSERT INTO slot_versions (practice_id, shard, booked) VALUES (v_practice, v_shard, 1)
                ON CONFLICT (practice_id, shard) DO UPDATE SET booked = slot_versions.booked + 1;
        ELSE
            INSERT INTO slot_versions (practice_id, shard, diary) VALUES (v_practice, v_shard, 1)
                ON CONFLICT (practice_id, shard) DO UPDATE SET diary = slot_versions.diary + 1;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER diary_slots_slot_version AFTER INSERT OR DELETE OR UPDATE OF slot_id, session_id, start_at, length_min, type_id, status ON diary_slots
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER diary_sessions_slot_version AFTER INSERT OR DELETE OR UPDATE OF session_id, site_id, holder_ids ON diary_sessions
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER emis_slot_types_slot_version AFTER INSERT OR DELETE OR UPDATE OF emis_id, feature, gone ON emis_slot_types
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER locations_slot_version AFTER INSERT OR DELETE OR UPDATE OF practice_id, emis_site_id ON locations
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER practices_slot_version AFTER UPDATE OF practice_group_id ON practices
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER appointments_slot_version AFTER INSERT OR DELETE OR UPDATE OF practice_id, slot_id, state, reserved_until, emis_written, write_unknown, slot_released_early ON appointments
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('booked');
