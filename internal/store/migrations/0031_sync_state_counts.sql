-- A practice's counts of stored sessions and slots are counted when a page asks for them
-- (SyncStatus), not stored by every sync pass: recounting a practice's 1,800 slots after each
-- pass that wrote anything was a twentieth of herolink's CPU at 7,000 practices.
ALTER TABLE sync_state DROP COLUMN sessions;
ALTER TABLE sync_state DROP COLUMN slots;
