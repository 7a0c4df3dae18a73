-- PostgreSQL checks a foreign key with a query and a row lock a row: for the 1,800 slots of a
-- practice's first sync that was a quarter of writing them (21.8 ms against 16.0 ms a
-- practice, BenchmarkFirstSyncOfAPractice). The check proved nothing the pass does not prove
-- once: only ApplyDiaryPass inserts slots, in the transaction that also writes the practice's
-- sync_state row, whose own foreign key fails for a practice herolink does not know, and
-- practices are never deleted. TestADiaryPassForAnUnknownPracticeWritesNothing holds both
-- engines to that.
ALTER TABLE diary_slots DROP CONSTRAINT diary_slots_practice_id_fkey;
