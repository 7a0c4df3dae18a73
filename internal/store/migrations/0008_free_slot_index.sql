-- The slots partners can still book, in search order, carrying what the search reads: a search
-- skips booked slots without touching them (near-term slots are the first to be booked, so a
-- search from today otherwise walks past every one of them) and never reads the table itself.
CREATE INDEX diary_slots_free ON diary_slots (practice_id, start_at, slot_id, session_id, type_id, length_min)
    WHERE status = 'Available';
