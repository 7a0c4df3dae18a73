-- The sync setup of a connected practice: EMIS's appointment configuration as herolink last
-- read it, herolink's own practitioners and locations mapped 1:1 to session holders and sites,
-- each slot type's feature, and the appointment types published for bookable slot types.

-- What GetAppointmentConfiguration answered, keyed by EMIS's ids. A row EMIS no longer lists
-- is deleted, unless something herolink keeps refers to it: then it is marked gone.
CREATE TABLE emis_sites (
    practice_id  INTEGER NOT NULL REFERENCES practices(id),
    emis_id      BIGINT NOT NULL,
    name         TEXT NOT NULL,
    postcode     TEXT NOT NULL DEFAULT '',
    gone         INTEGER NOT NULL DEFAULT 0,
    read_at      BIGINT NOT NULL,
    PRIMARY KEY (practice_id, emis_id)
);

CREATE TABLE emis_holders (
    practice_id   INTEGER NOT NULL REFERENCES practices(id),
    emis_id       BIGINT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    first_names   TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    job_category  TEXT NOT NULL DEFAULT '',
    display_name  TEXT NOT NULL,              -- as EMIS lists it: "Dr Sarah Ahmed"
    gone          INTEGER NOT NULL DEFAULT 0,
    read_at       BIGINT NOT NULL,
    PRIMARY KEY (practice_id, emis_id)
);

-- feature: what herolink does with the type. 'unset' (a type not yet reviewed) is not offered.
CREATE TABLE emis_slot_types (
    practice_id    INTEGER NOT NULL REFERENCES practices(id),
    emis_id        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    colour         TEXT NOT NULL DEFAULT '',
    emis_bookable  INTEGER NOT NULL,
    feature        TEXT NOT NULL DEFAULT 'unset'
                   CHECK (feature IN ('unset', 'bookable', 'not_bookable', 'unregistered')),
    gone           INTEGER NOT NULL DEFAULT 0,
    read_at        BIGINT NOT NULL,
    PRIMARY KEY (practice_id, emis_id)
);
-- Exactly one type per practice reserves time for unregistered patients: never two.
CREATE UNIQUE INDEX emis_slot_types_one_unregistered ON emis_slot_types (practice_id) WHERE feature = 'unregistered';

-- herolink's own records. A NULL EMIS id means platform-only. The foreign keys refuse an EMIS id
-- herolink has not read; the partial unique indexes make the mapping 1:1 (one column per row
-- gives the other direction).
CREATE TABLE practitioners (
    id              INTEGER PRIMARY KEY,
    practice_id     INTEGER NOT NULL REFERENCES practices(id),
    name            TEXT NOT NULL,
    emis_holder_id  BIGINT,
    created_at      BIGINT NOT NULL,
    FOREIGN KEY (practice_id, emis_holder_id) REFERENCES emis_holders (practice_id, emis_id)
);
CREATE INDEX practitioners_practice ON practitioners (practice_id);
CREATE UNIQUE INDEX practitioners_one_per_holder ON practitioners (practice_id, emis_holder_id) WHERE emis_holder_id IS NOT NULL;

CREATE TABLE locations (
    id            INTEGER PRIMARY KEY,
    practice_id   INTEGER NOT NULL REFERENCES practices(id),
    name          TEXT NOT NULL,
    emis_site_id  BIGINT,
    created_at    BIGINT NOT NULL,
    FOREIGN KEY (practice_id, emis_site_id) REFERENCES emis_sites (practice_id, emis_id)
);
CREATE INDEX locations_practice ON locations (practice_id);
CREATE UNIQUE INDEX locations_one_per_site ON locations (practice_id, emis_site_id) WHERE emis_site_id IS NOT NULL;

-- What patients and partners see of a Bookable slot type. Created when the type first becomes
-- Bookable and kept when it stops being so (then hidden), so staff's wording survives.
CREATE TABLE appointment_types (
    id                 INTEGER PRIMARY KEY,
    practice_id        INTEGER NOT NULL REFERENCES practices(id),
    emis_slot_type_id  INTEGER NOT NULL,
    name               TEXT NOT NULL,
    duration_minutes   INTEGER NOT NULL DEFAULT 10 CHECK (duration_minutes BETWEEN 5 AND 120),
    channel            TEXT NOT NULL DEFAULT 'in_person' CHECK (channel IN ('in_person', 'telephone', 'video')),
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (practice_id, emis_slot_type_id),
    FOREIGN KEY (practice_id, emis_slot_type_id) REFERENCES emis_slot_types (practice_id, emis_id)
);
