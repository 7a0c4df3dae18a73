package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func TestConformancePatientsAndLinks(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		pat := store.PatientRow{ID: "pat_1", PracticeGroupID: p.PracticeGroupID, NHSNumber: "9434765919", FamilyName: "Smith",
			GivenName: "Ann", DateOfBirth: "1980-01-02", Postcode: "AB1 2CD", Email: "a@example.org", Phone: "07700900000", Owner: "key1"}
		must(t, st.InsertPatient(ctx, st.DBQ(), pat))
		got, err := st.Patient(ctx, st.DBQ(), "pat_1")
		must(t, err)
		if !got.CreatedAt.Equal(epoch) {
			t.Fatalf("created at %v", got.CreatedAt)
		}
		got.CreatedAt = time.Time{}
		if got != pat {
			t.Fatalf("patient reads back as %+v, want %+v", got, pat)
		}
		if err := st.InsertPatient(ctx, st.DBQ(), pat); err == nil {
			t.Fatal("a second patient with the same id was stored")
		}
		if err := st.InsertPatient(ctx, st.DBQ(), store.PatientRow{ID: "pat_2", PracticeGroupID: "pg_nope"}); err == nil {
			t.Fatal("a patient of an unknown practice group was stored")
		}
		if _, err := st.Patient(ctx, st.ReadQ(), "pat_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown patient: %v", err)
		}
		// In a transaction that rolls back, nothing is kept.
		_ = st.InTx(ctx, func(tx *store.Tx) error {
			must(t, st.InsertPatient(ctx, tx, store.PatientRow{ID: "pat_3", PracticeGroupID: p.PracticeGroupID}))
			return errors.New("roll back")
		})
		if _, err := st.Patient(ctx, st.DBQ(), "pat_3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a rolled-back patient: %v", err)
		}

		if _, err := st.PatientLink(ctx, "pat_1", p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unlinked patient: %v", err)
		}
		must(t, st.LinkPatient(ctx, st.DBQ(), store.PatientLinkRow{PatientID: "pat_1", PracticeID: p.ID, EMISPatientID: 5001, Rule: "nhs_dob", LinkedBy: "matching"}))
		l, err := st.PatientLink(ctx, "pat_1", p.ID)
		must(t, err)
		if l.EMISPatientID != 5001 || l.Rule != "nhs_dob" || l.LinkedBy != "matching" || !l.LinkedAt.Equal(epoch) {
			t.Fatalf("link reads back as %+v", l)
		}
		c.advance(time.Minute)
		must(t, st.LinkPatient(ctx, st.DBQ(), store.PatientLinkRow{PatientID: "pat_1", PracticeID: p.ID, EMISPatientID: 5002, Rule: "staff", LinkedBy: "alice"}))
		q := newPractice(t, st, "B82002")
		must(t, st.LinkPatient(ctx, st.DBQ(), store.PatientLinkRow{PatientID: "pat_1", PracticeID: q.ID, EMISPatientID: 7, Rule: "staff", LinkedBy: "bob"}))
		links, err := st.PatientLinks(ctx, "pat_1")
		must(t, err)
		if len(links) != 2 || links[0].PracticeID != p.ID || links[0].EMISPatientID != 5002 || links[0].Rule != "staff" ||
			!links[0].LinkedAt.Equal(c.t) || links[1].PracticeID != q.ID {
			t.Fatalf("links after relinking: %+v", links)
		}
		if err := st.LinkPatient(ctx, st.DBQ(), store.PatientLinkRow{PatientID: "pat_nope", PracticeID: p.ID, EMISPatientID: 1}); err == nil {
			t.Fatal("a link of an unknown patient was stored")
		}
		// Unlinking forgets the link only while it still names the record.
		must(t, st.UnlinkPatient(ctx, st.DBQ(), "pat_1", p.ID, 5001))
		if _, err := st.PatientLink(ctx, "pat_1", p.ID); err != nil {
			t.Fatalf("unlinking a record the link no longer names removed it: %v", err)
		}
		must(t, st.UnlinkPatient(ctx, st.DBQ(), "pat_1", p.ID, 5002))
		if _, err := st.PatientLink(ctx, "pat_1", p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after unlinking: %v", err)
		}
	})
}

func TestConformanceStaffLinks(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		p := f.practice
		must(t, st.InsertPatient(ctx, st.DBQ(), store.PatientRow{ID: "pat_1", PracticeGroupID: p.PracticeGroupID}))
		must(t, insertHold(t, st, hold(p, "apt_1", 1, 0)))
		must(t, insertHold(t, st, hold(p, "apt_2", 1, 1)))
		if _, err := st.StaffLinkOf(ctx, st.DBQ(), "apt_1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no decision yet: %v", err)
		}
		l := store.StaffLinkRow{AppointmentID: "apt_1", PatientID: "pat_1", PracticeID: p.ID, EMISPatientID: 5001,
			RecordFamilyName: "Smyth", RecordDateOfBirth: "1980-01-02", Mismatch: true, Reason: "married name", LinkedBy: "alice"}
		must(t, st.SaveStaffLink(ctx, st.DBQ(), l))
		got, err := st.StaffLinkOf(ctx, st.DBQ(), "apt_1")
		must(t, err)
		if !got.CreatedAt.Equal(epoch) {
			t.Fatalf("created at %v", got.CreatedAt)
		}
		got.CreatedAt = time.Time{}
		if got != l {
			t.Fatalf("staff link reads back as %+v, want %+v", got, l)
		}
		must(t, st.SaveStaffLink(ctx, st.DBQ(), store.StaffLinkRow{AppointmentID: "apt_2", PatientID: "pat_1", PracticeID: p.ID,
			EMISPatientID: 5001, RecordFamilyName: "Smith", RecordDateOfBirth: "1980-01-02", LinkedBy: "bob"}))
		mm, err := st.ConfirmedMismatches(ctx, "pat_1", p.ID, 5001)
		must(t, err)
		if len(mm) != 1 || mm[0].AppointmentID != "apt_1" || !mm[0].Mismatch {
			t.Fatalf("confirmed mismatches: %+v", mm)
		}
		// Linking the placeholder again replaces the decision.
		l.Mismatch, l.EMISPatientID, l.Reason = false, 5003, ""
		must(t, st.SaveStaffLink(ctx, st.DBQ(), l))
		if mm, _ := st.ConfirmedMismatches(ctx, "pat_1", p.ID, 5001); len(mm) != 0 {
			t.Fatalf("a replaced decision still counts: %+v", mm)
		}
		if err := st.SaveStaffLink(ctx, st.DBQ(), store.StaffLinkRow{AppointmentID: "apt_nope", PatientID: "pat_1", PracticeID: p.ID}); err == nil {
			t.Fatal("a decision for an unknown appointment was stored")
		}
	})
}

func TestConformanceStaffAndSessions(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		sup, err := st.CreateStaffUser(ctx, store.StaffUser{Username: "Alice", DisplayName: "Alice A", PasswordHash: "$argon2id$1", Role: store.RoleSupport})
		must(t, err)
		if sup.ID == 0 || sup.Username != "alice" {
			t.Fatalf("created: %+v", sup)
		}
		if _, err := st.CreateStaffUser(ctx, store.StaffUser{Username: "ALICE", DisplayName: "x", PasswordHash: "h", Role: store.RoleSupport}); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("a username differing only in case: %v, want ErrDuplicate", err)
		}
		if _, err := st.CreateStaffUser(ctx, store.StaffUser{Username: "bob", DisplayName: "x", PasswordHash: "h", Role: store.RolePractice}); err == nil || errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("a practice user without a practice: %v, want a refusal", err)
		}
		pu, err := st.CreateStaffUser(ctx, store.StaffUser{Username: "bob", DisplayName: "Bob", PasswordHash: "h", Role: store.RolePractice, PracticeID: p.ID})
		must(t, err)
		got, err := st.StaffUserByUsername(ctx, "  BOB ")
		must(t, err)
		if got != pu {
			t.Fatalf("by username: %+v, want %+v", got, pu)
		}
		if _, err := st.StaffUserByUsername(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		must(t, st.CreateSession(ctx, "tok-1", sup.ID, epoch.Add(time.Hour)))
		must(t, st.CreateSession(ctx, "tok-2", sup.ID, epoch.Add(time.Hour)))
		must(t, st.CreateSession(ctx, "tok-3", pu.ID, epoch.Add(2*time.Hour)))
		if err := st.CreateSession(ctx, "tok-1", pu.ID, epoch.Add(time.Hour)); err == nil {
			t.Fatal("a second session with one token hash was stored")
		}
		if err := st.CreateSession(ctx, "tok-9", 424242, epoch.Add(time.Hour)); err == nil {
			t.Fatal("a session of an unknown user was stored")
		}
		u, err := st.SessionUser(ctx, "tok-1")
		must(t, err)
		if u != sup {
			t.Fatalf("session user %+v, want %+v", u, sup)
		}
		must(t, st.DeleteSession(ctx, "tok-1"))
		if _, err := st.SessionUser(ctx, "tok-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a signed-out session: %v", err)
		}
		// A new password signs out every session of the user.
		must(t, st.UpdateStaffPassword(ctx, sup.ID, "$argon2id$2"))
		if _, err := st.SessionUser(ctx, "tok-2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a session after a password change: %v", err)
		}
		if u, _ := st.StaffUserByUsername(ctx, "alice"); u.PasswordHash != "$argon2id$2" {
			t.Fatalf("password hash after change: %q", u.PasswordHash)
		}
		if _, err := st.SessionUser(ctx, "tok-3"); err != nil {
			t.Fatalf("another user's session was signed out: %v", err)
		}
		// Sessions expire.
		c.advance(2 * time.Hour)
		if _, err := st.SessionUser(ctx, "tok-3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired session: %v", err)
		}
	})
}
