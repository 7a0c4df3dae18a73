-- When a practice's last pass over the whole horizon proved everything it looked at: the
-- practice's freshness, read by /metrics from here so that a restart does not forget it.
-- last_success_at also moves on near-term passes, which prove only the next few days.
ALTER TABLE sync_state ADD COLUMN last_full_success_at BIGINT;
-- Before this column a full pass's success was not told apart from a near one's; for a practice
-- whose first sync is done, its last success is the best estimate (at most one full interval off).
UPDATE sync_state SET last_full_success_at = last_success_at WHERE first_sync_done = 1;
