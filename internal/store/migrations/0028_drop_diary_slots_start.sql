-- A first sync writes about 1,800 slots a practice, and each index on diary_slots costs about
-- a fifth of that write. Searches no longer need diary_slots_start: the free-slot index
-- (0027, in memory) is rebuilt from diary_slots_free, and the staff diary goes through the
-- sessions. The few reads of a practice's slots by time (the "why can't I see this slot"
-- page, benchmarks) scan that practice's primary-key range, a few thousand rows.
DROP INDEX diary_slots_start;
