package booking_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/store"
)

func (b *bundle) inbox(t *testing.T) booking.Inbox {
	t.Helper()
	in, err := b.svc.Inbox(context.Background(), b.practiceID)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestTheInboxShowsWhoBookedTheSlotWhatThePatientTypedTheCandidatesAndHowLongItHasWaited(t *testing.T) {
	b := setup(t)
	b.exec(t, `INSERT INTO api_keys (id, practice_group_id, name, prefix, key_hash, scopes, created_at, owner_id)
		VALUES ('key_test', ?, 'Triage partner', 'hlk_live_x', 'hash-of-key-test', 'booking', 0, 'key_test')`, b.group)
	d, emisNo := b.emisPatient(t)
	typed := unmatchable(d) // EMIS holds the surname and date of birth under another first name
	a := b.placeholderFor(t, typed)
	b.clock.advance(4 * time.Minute)
	in := b.inbox(t)
	if len(in.Items) != 1 {
		t.Fatalf("inbox = %+v", in.Items)
	}
	it := in.Items[0]
	if it.Reference != a.Reference || it.Partner != "Triage partner" || it.BookedAt.IsZero() || !it.StartAt.Equal(a.StartAt) ||
		it.LengthMin == 0 || it.Description != "Sore throat" {
		t.Fatalf("who booked, when, the slot: %+v", it)
	}
	if it.AppointmentType == "" || it.Location == "" || len(it.Practitioners) != 1 || it.Practitioners[0] == "" {
		t.Fatalf("the slot's type, location and practitioner: %q, %q, %q", it.AppointmentType, it.Location, it.Practitioners)
	}
	if it.Typed.FamilyName != typed.FamilyName || it.Typed.GivenName != "Lex" || it.Postcode != typed.Postcode {
		t.Fatalf("what the patient typed: %+v", it.Typed)
	}
	if it.MatchRule == "" || it.WhyNot == "" || len(it.Candidates) != 1 || it.Candidates[0].EMISNumber != emisNo ||
		it.Candidates[0].FirstNames != "Alex" || it.Candidates[0].Why == "" {
		t.Fatalf("the candidates EMIS returned and why none was linked: rule %q, %q, %+v", it.MatchRule, it.WhyNot, it.Candidates)
	}
	if it.Waited < 4*time.Minute || it.Waited > 5*time.Minute || it.Overdue {
		t.Fatalf("waited %s (overdue %v), want about 4 minutes", it.Waited, it.Overdue)
	}
}

func TestAPlaceholderPastThePracticesThresholdIsRecordedOverdueOnce(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if err := b.store.SetPlaceholderOverdue(ctx, b.practiceID, 30*time.Minute, store.AuditEntry{Actor: "manager", Action: "placeholder_threshold_changed"}); err != nil {
		t.Fatal(err)
	}
	a := b.placeholder(t, b.freeSlots(t, 1)[0].ID)
	overdue := func() int { return count(b.events(t, a.ID), "appointment.placeholder_overdue/30m0s") }
	b.clock.advance(11 * time.Minute) // past the default, not past this practice's threshold
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := overdue(); n != 0 || b.inbox(t).Items[0].Overdue {
		t.Fatalf("overdue after 11 minutes of a 30-minute threshold (%d events)", n)
	}
	b.clock.advance(20 * time.Minute)
	for range 3 {
		if err := b.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := overdue(); n != 1 {
		t.Fatalf("appointment.placeholder_overdue recorded %d times after 31 minutes, want once: %v", n, b.events(t, a.ID))
	}
	in := b.inbox(t)
	if !in.Items[0].Overdue || in.OverdueCount() != 1 || b.row(t, a.ID).AlertedAt.IsZero() {
		t.Fatalf("the inbox does not show it overdue: %+v", in.Items[0])
	}
	if !b.auditHas(t, "unregistered_patient_alert", a.Reference) {
		t.Fatal("the alert is not audited")
	}
}

func TestTheInboxFiguresCountOpenPlaceholdersTheOldestAndTheMedianTimeToResolve(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slots := b.freeSlots(t, 3)
	d1, emis1 := b.emisPatient(t)
	first := b.placeholderFor(t, unmatchable(d1))
	second := b.placeholder(t, slots[1].ID)
	b.clock.advance(5 * time.Minute)
	if _, err := b.svc.StaffCancel(ctx, b.practiceID, second.ID, "the patient called", "reception"); err != nil {
		t.Fatal(err)
	}
	b.clock.advance(10 * time.Minute)
	open := b.placeholder(t, slots[2].ID)
	since := b.clock.now()
	if err := b.staffLink(ctx, first.ID, emis1); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, first.ID); err != nil {
		t.Fatal(err)
	}
	b.clock.advance(2 * time.Minute)
	f := b.inbox(t).Figures
	// Resolved after 5 and 15 minutes: the median is 10.
	if f.Open != 1 || f.Resolved != 2 || f.MedianResolve < 9*time.Minute || f.MedianResolve > 11*time.Minute ||
		f.OldestSince.Before(since.Add(-time.Minute)) || f.OldestSince.After(since) {
		t.Fatalf("figures = %+v (open %s written at about %s)", f, open.Reference, since)
	}
	// Resolved more than 30 days ago no longer counts.
	b.clock.advance(31 * 24 * time.Hour)
	if f := b.inbox(t).Figures; f.Resolved != 0 || f.Open != 1 {
		t.Fatalf("figures after 31 days = %+v", f)
	}
}
