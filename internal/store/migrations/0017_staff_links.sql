-- What staff saw and decided when they linked a placeholder's patient to an EMIS record: the
-- record's surname and date of birth as EMIS showed them, whether they disagreed with what the
-- patient typed (then a reason is required), and who decided. The patient link itself is stored
-- only once EMIS holds the appointment; a confirmed disagreement lets later bookings use the
-- link only while the record still reads as it did when staff confirmed it.
CREATE TABLE staff_links (
    appointment_id        TEXT PRIMARY KEY REFERENCES appointments(id),
    patient_id            TEXT NOT NULL REFERENCES patients(id),
    practice_id           INTEGER NOT NULL REFERENCES practices(id),
    emis_patient_id       BIGINT NOT NULL,
    record_family_name    TEXT NOT NULL,
    record_date_of_birth  TEXT NOT NULL,
    mismatch              INTEGER NOT NULL,
    reason                TEXT NOT NULL,
    linked_by             TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);

CREATE INDEX staff_links_by_patient ON staff_links (patient_id, practice_id, emis_patient_id);
