-- A first sync writes about 1,800 slots a practice, and each index on diary_slots costs about
-- a fifth of that write. Searches no longer need diary_slots_start: the free-slot index
-- (0027, in memory) is rebuilt from diary_slots_free, and the few reads of a practice's slots
-- by time (the staff diary, "why can't I see this slot") go through the sessions' dates.
DROP INDEX diary_slots_start;
