-- SQLite has no statement triggers, and the per-row insert trigger of migration 0027 ran an
-- upsert of the practice's counter row for every slot of a first sync: 1,800 a practice, a
-- sixth of the write (2.3 of 13.2 ms in BenchmarkFirstSyncOfAPractice; the trigger's call
-- alone was most of it, so a WHEN clause saved little). The one statement that inserts slots
-- (store.upsertSlotsSQL) now moves the counter itself, once, in the same transaction
-- (replaceSlotsTx). Updates and deletions keep their per-row triggers: the sync writes few.
DROP TRIGGER diary_slots_insert_slot_version;
