-- diary_slots_free (0008) ordered a practice's Available slots by time for searches. Searches
-- answer from the free-slot index in memory (0027), which reads a practice's slots only to
-- rebuild, and reads all of them: along the primary key it is as fast on SQLite (3.2 ms
-- against 3.0 ms for 1,800 slots) and faster on PostgreSQL (5.4 ms against 15 ms). Every
-- write of a slot paid for the index: 14 % of a practice's first sync on both engines, and a
-- status change could not be a heap-only update on PostgreSQL.
DROP INDEX diary_slots_free;
