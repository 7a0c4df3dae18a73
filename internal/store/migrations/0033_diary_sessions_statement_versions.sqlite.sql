-- PostgreSQL's twin moves the diary counter once a statement of sessions inserted or deleted,
-- and drops diary_sessions' foreign key to practices. SQLite has no statement triggers, and
-- dropping the key would rebuild the table: both stay. The version is recorded so that both
-- engines list the same migrations.
SELECT 1;
