-- Caches each instance keeps in memory (API key lookups, logged-on EMIS connections) are
-- correct only while nothing changes behind them. A change that must reach every instance
-- bumps its scope's version in the same transaction; every instance polls this small table
-- and drops what the bumped scope covers.
CREATE TABLE cache_versions (
    scope    TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
INSERT INTO cache_versions (scope, version) VALUES ('api_keys', 0), ('emis_connections', 0);
