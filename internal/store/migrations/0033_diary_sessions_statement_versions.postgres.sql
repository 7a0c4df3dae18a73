-- A practice's first sync inserts about 110 sessions, and each moved the diary counter with
-- its own plpgsql call and upsert of the counter row, and checked its practice with a query
-- and a row lock: in a 2,000-practice first sync that was 215,690 trigger calls and 437,380
-- practice checks (pg_stat_statements). Inserts and deletes of sessions now move the counter
-- once a statement, as migration 0030 made it for slots, so a first sync that copies its
-- sessions in moves it once. Updates keep their row trigger: its column list moves the counter
-- only when what decides a search changes (a pass updates slots_synced_at on every session it
-- reads, which must not send every searched practice's index to be rebuilt).
-- The foreign key goes for the reason migration 0032 gave for slots: only ApplyDiaryPass
-- inserts sessions, in the transaction that also writes the practice's sync_state row, whose
-- own foreign key fails for a practice herolink does not know, and practices are never
-- deleted. TestADiaryPassForAnUnknownPracticeWritesNothing holds both engines to that.
DROP TRIGGER diary_sessions_slot_version ON diary_sessions;
CREATE TRIGGER diary_sessions_update_slot_version AFTER UPDATE OF session_id, site_id, holder_ids ON diary_sessions
    FOR EACH ROW EXECUTE FUNCTION bump_slot_version('diary');
CREATE TRIGGER diary_sessions_insert_slot_version AFTER INSERT ON diary_sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_diary_version_of_statement();
CREATE TRIGGER diary_sessions_delete_slot_version AFTER DELETE ON diary_sessions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_diary_version_of_statement();
ALTER TABLE diary_sessions DROP CONSTRAINT diary_sessions_practice_id_fkey;
