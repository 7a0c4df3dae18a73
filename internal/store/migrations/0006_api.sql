-- The partner API: API keys grow a partner name, a link to the key that replaced them and when
-- they were last used; Idempotency-Key answers are kept a day per API key.

ALTER TABLE api_keys ADD COLUMN partner TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN rotated_to TEXT REFERENCES api_keys(id);
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_keys_group ON api_keys (practice_group_id, created_at);

-- One row per (API key, Idempotency-Key). status 0 means the first request is still being
-- answered (lease_until says until when it may be, in case its process died); otherwise the
-- answer is kept to be replayed: status, the headers a replay needs, the body. request_hash
-- is SHA-256 of the method, path and body, so a key reused for another request is refused.
CREATE TABLE idempotency_keys (
    api_key_id    TEXT NOT NULL REFERENCES api_keys(id),
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    headers       TEXT NOT NULL DEFAULT '{}',
    body          BLOB,
    lease_until   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
