-- Patient booking links (issue 12): a URL a partner or the practice's staff send a patient, who
-- books through herolink's own pages (/book/{token}). The token is never stored: only its
-- SHA-256 (it carries 256 random bits, so a slow hash would add nothing).
CREATE TABLE booking_links (
    id                  TEXT PRIMARY KEY,              -- bkl_...
    token_hash          TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the token in the URL
    practice_group_id   TEXT NOT NULL REFERENCES practice_groups(id),
    practice_id         INTEGER NOT NULL REFERENCES practices(id),
    owner_id            TEXT NOT NULL,                 -- the partner (api_keys.owner_id); '' when staff made it
    appointment_type_id TEXT NOT NULL,                 -- public ids, as the partner API shows them
    location_id         TEXT NOT NULL DEFAULT '',
    practitioner_id     TEXT NOT NULL DEFAULT '',
    -- The patient the link is for; all empty for an open link (the patient types their details).
    patient_given_name  TEXT NOT NULL DEFAULT '',
    patient_family_name TEXT NOT NULL DEFAULT '',
    patient_dob         TEXT NOT NULL DEFAULT '',      -- yyyy-mm-dd
    patient_nhs_number  TEXT NOT NULL DEFAULT '',
    from_date           TEXT NOT NULL,                 -- yyyy-mm-dd, Europe/London, inclusive
    to_date             TEXT NOT NULL,
    expires_at          BIGINT NOT NULL,
    max_uses            INTEGER NOT NULL CHECK (max_uses >= 1),
    uses                INTEGER NOT NULL DEFAULT 0,    -- confirmed bookings made through it
    -- Wrong dates of birth since the link was made or last unlocked: counted here, not in
    -- memory, so every instance sees the same count; the link locks at the limit.
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_at           BIGINT,
    revoked_at          BIGINT,
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    CHECK (uses <= max_uses)
);
CREATE INDEX booking_links_owner ON booking_links (practice_group_id, owner_id, created_at);
CREATE INDEX booking_links_practice ON booking_links (practice_id, created_at);

-- One patient's visit to a link: a random token in a cookie (stored hashed) that carries what
-- the patient proved (the date of birth) or typed (an open link's details) and the hold they
-- placed between pages, so another visitor of the same or another link cannot act on it.
CREATE TABLE booking_link_visits (
    token_hash      TEXT PRIMARY KEY,
    link_id         TEXT NOT NULL REFERENCES booking_links(id),
    verified        INTEGER NOT NULL DEFAULT 0,
    given_name      TEXT NOT NULL DEFAULT '',
    family_name     TEXT NOT NULL DEFAULT '',
    dob             TEXT NOT NULL DEFAULT '',
    nhs_number      TEXT NOT NULL DEFAULT '',
    appointment_id  TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX booking_link_visits_link ON booking_link_visits (link_id);
