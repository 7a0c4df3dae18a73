-- Several instances on one database split the slot sync by expiring per-practice leases: a
-- practice's diary is written only by the instance holding its live lease (holder, token), and
-- every write checks the lease in its own transaction. token grows with every take, so a
-- holder that lost the lease and took it back cannot commit a pass begun under the old one.
-- expires_at 0 is free (never taken, or released).
CREATE TABLE sync_leases (
    practice_id  INTEGER NOT NULL PRIMARY KEY,
    holder       TEXT NOT NULL DEFAULT '',
    token        INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sync_leases_by_holder ON sync_leases (holder, expires_at);

-- Every running instance's heartbeat: how many are live decides each one's share of the
-- practices, so that the split rebalances when one joins or dies.
CREATE TABLE sync_instances (
    instance_id  TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
