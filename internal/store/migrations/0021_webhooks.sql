-- Webhooks (issue 11, Standard Webhooks 1.0): partners' endpoints, one delivery per event and
-- endpoint, and every attempt made.

-- The outbox flag: an event is fanned out to deliveries once, in the transaction that marks it.
-- A flag rather than a cursor over ids: on PostgreSQL an id taken early may commit late, and a
-- cursor would step over it for ever. Events written before webhooks existed are not delivered.
ALTER TABLE appointment_events ADD COLUMN fanned_out INTEGER NOT NULL DEFAULT 0;
UPDATE appointment_events SET fanned_out = 1;
CREATE INDEX appointment_events_to_fan_out ON appointment_events (id) WHERE fanned_out = 0;

-- A partner's endpoint in one practice group. The signing secret is sealed by the vault; during
-- a rotation the previous one is kept until old_secret_until, and deliveries carry both
-- signatures. owner_id is the partner (api_keys.owner_id): it receives its own appointments'
-- events only.
CREATE TABLE webhook_endpoints (
    id                 TEXT PRIMARY KEY,              -- whk_...
    practice_group_id  TEXT NOT NULL REFERENCES practice_groups(id),
    owner_id           TEXT NOT NULL,
    url                TEXT NOT NULL,
    event_types        TEXT NOT NULL,                 -- space-separated
    description        TEXT NOT NULL DEFAULT '',
    secret_key_id      TEXT NOT NULL,
    secret_sealed      BLOB NOT NULL,
    old_secret_key_id  TEXT NOT NULL DEFAULT '',
    old_secret_sealed  BLOB,
    old_secret_until   BIGINT,
    state              TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled', 'deleted')),
    disabled_reason    TEXT NOT NULL DEFAULT '',
    disabled_at        BIGINT,
    failing_since      BIGINT,                        -- the first failed attempt since the last success
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (practice_group_id, owner_id, state);

-- One message to one endpoint. stream orders deliveries (an appointment's id, or practice:N for
-- a connection's status): a delivery is sent only once every earlier one of its stream and
-- endpoint is settled. (source, source_id) is the outbox row it came from, unique per
-- endpoint, so two instances fanning out the same event make one delivery.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id),
    msg_id           TEXT NOT NULL,                   -- webhook-id: the same on every attempt
    event_type       TEXT NOT NULL,
    stream           TEXT NOT NULL,
    source           TEXT NOT NULL,                   -- appointment_events | health_events
    source_id        BIGINT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at BIGINT,
    last_attempt_at  BIGINT,
    next_attempt_at  BIGINT,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    settled_at       BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, source, source_id);
CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (endpoint_id, stream, source_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Every attempt: what the receiver answered, how long it took, the start of its answer.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  BIGINT NOT NULL REFERENCES webhook_deliveries(id),
    endpoint_id  TEXT NOT NULL,
    at           BIGINT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,          -- HTTP status; 0: no answer
    latency_ms   INTEGER NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    excerpt      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
