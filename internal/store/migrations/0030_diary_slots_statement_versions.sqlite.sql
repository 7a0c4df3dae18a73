-- PostgreSQL's twin moves the diary counter once per statement. SQLite has no statement
-- triggers, so its per-row triggers of migration 0027 stay; the version is recorded so that
-- both engines list the same migrations.
SELECT 1;
