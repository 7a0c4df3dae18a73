-- SQLite's twin drops its per-row insert trigger: the writer moves the counter once per pass.
-- PostgreSQL's statement trigger (migration 0030) already does; the version is recorded so that
-- both engines list the same migrations.
SELECT 1;
