package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// allStates is every state an appointment can be in (the CHECK of migration 0005).
var allStates = []string{"reserved", "expired", "confirming", "booked", "placeholder", "failed", "cancelled"}

// changeAt is the store's clock during these tests: every change stamps updated_at with it.
var changeAt = time.UnixMilli(1_800_000_000_000)

// appointmentChange is one named state change of an appointment, as the booking core makes it.
type appointmentChange struct {
	name string
	// from is the states it applies in; nil: any state.
	from  []string
	apply func(ctx context.Context, st *store.Store, id string) error
	// check says what must read back after it applied to before.
	check func(t *testing.T, before, after store.AppointmentRow)
}

var at = time.UnixMilli(1_790_000_000_000)

func appointmentChanges() []appointmentChange {
	c := store.Cancellation{By: "partner", Reason: "feeling better", At: at}
	wantCancelled := func(t *testing.T, a store.AppointmentRow) {
		t.Helper()
		if a.State != "cancelled" || !a.CancelledAt.Equal(at) || a.CancelledBy != c.By || a.CancelReason != c.Reason {
			t.Errorf("cancellation reads back as %q at %v by %q (%q)", a.State, a.CancelledAt, a.CancelledBy, a.CancelReason)
		}
	}
	return []appointmentChange{
		{"ConfirmBooking", []string{"reserved"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.ConfirmBooking(ctx, st.DBQ(), id, "pat_1", 4242, at)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "confirming" || a.PatientID != "pat_1" || a.EMISPatientID != 4242 || !a.ConfirmedAt.Equal(at) {
					t.Errorf("confirmed booking reads back as %q patient %q EMIS %d at %v", a.State, a.PatientID, a.EMISPatientID, a.ConfirmedAt)
				}
			}},
		{"ConfirmReschedule", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.ConfirmReschedule(ctx, st.DBQ(), id, 4242, at)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.State != b.State || a.EMISPatientID != 4242 || !a.ConfirmedAt.Equal(at) {
					t.Errorf("rescheduled booking reads back as %q EMIS %d at %v", a.State, a.EMISPatientID, a.ConfirmedAt)
				}
			}},
		{"EditHold", []string{"reserved"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.EditHold(ctx, st.DBQ(), id, "knee", "afternoons")
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "reserved" || a.Description != "knee" || a.Comment != "afternoons" {
					t.Errorf("edited hold reads back as %q %q %q", a.State, a.Description, a.Comment)
				}
			}},
		{"MoveHold", []string{"reserved"},
			func(ctx context.Context, st *store.Store, id string) error {
				a, err := st.Appointment(ctx, st.DBQ(), id)
				if err != nil {
					return err
				}
				return st.MoveHold(ctx, st.DBQ(), id, store.AppointmentRow{PracticeID: a.PracticeID, SlotID: a.SlotID + 100_000,
					SessionID: 77, StartAt: at, LengthMin: 20, EMISSlotTypeID: 9, ReservedUntil: at.Add(15 * time.Minute),
					Description: "knee", Comment: "afternoons"})
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.State != "reserved" || a.SlotID != b.SlotID+100_000 || a.SessionID != 77 || !a.StartAt.Equal(at) ||
					a.LengthMin != 20 || a.EMISSlotTypeID != 9 || a.AppointmentTypeID != 0 || !a.ReservedUntil.Equal(at.Add(15*time.Minute)) ||
					a.Description != "knee" || a.Comment != "afternoons" {
					t.Errorf("moved hold reads back as %+v", a)
				}
			}},
		{"CancelBooking", []string{"booked"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.CancelBooking(ctx, st.DBQ(), id, "booked", c)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				wantCancelled(t, a)
				if a.EMISWritten != b.EMISWritten {
					t.Errorf("a partner's cancellation forgot what is written in EMIS: %q, was %q", a.EMISWritten, b.EMISWritten)
				}
			}},
		{"RecordCancelledInEMIS", []string{"booked"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.RecordCancelledInEMIS(ctx, st.DBQ(), id, "booked", c)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				wantCancelled(t, a)
				if a.EMISWritten != "" {
					t.Errorf("cancelled in EMIS but still recorded as written there: %q", a.EMISWritten)
				}
			}},
		{"ReleaseRescheduled", []string{"booked", "placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.ReleaseRescheduled(ctx, st.DBQ(), id, "apt_new", c)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				wantCancelled(t, a)
				if a.RescheduledTo != "apt_new" {
					t.Errorf("released booking rescheduled to %q, want apt_new", a.RescheduledTo)
				}
			}},
		{"RecordBookedInEMIS", []string{"placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.RecordBookedInEMIS(ctx, st.DBQ(), id, "booked_in_emis")
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "booked" || a.EMISWritten != "" || a.MatchRule != "booked_in_emis" {
					t.Errorf("booked in EMIS reads back as %q written %q rule %q", a.State, a.EMISWritten, a.MatchRule)
				}
			}},
		{"CompleteBooking", []string{"confirming", "placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.CompleteBooking(ctx, st.DBQ(), id, "booked", "appointment", at)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "booked" || a.EMISWritten != "appointment" || a.WriteUnknown || !a.WrittenAt.Equal(at) ||
					a.LastError != "" || !a.AlertedAt.IsZero() {
					t.Errorf("completed booking reads back as %q written %q unknown %v at %v error %q alerted %v",
						a.State, a.EMISWritten, a.WriteUnknown, a.WrittenAt, a.LastError, a.AlertedAt)
				}
			}},
		{"FailBooking", []string{"confirming", "placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.FailBooking(ctx, st.DBQ(), id, "slot_taken", `["slt_1_2"]`)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "failed" || a.FailureCode != "slot_taken" || a.Alternatives != `["slt_1_2"]` || a.WriteUnknown {
					t.Errorf("failed booking reads back as %q code %q alternatives %s unknown %v", a.State, a.FailureCode, a.Alternatives, a.WriteUnknown)
				}
			}},
		{"RecordWritten", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.RecordWritten(ctx, st.DBQ(), id, "placeholder")
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.State != b.State || a.EMISWritten != "placeholder" || a.WriteUnknown {
					t.Errorf("written reads back as %q written %q unknown %v", a.State, a.EMISWritten, a.WriteUnknown)
				}
			}},
		{"MarkWriteSettled", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.MarkWriteSettled(ctx, st.DBQ(), id)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.WriteUnknown || a.EMISWritten != b.EMISWritten {
					t.Errorf("settled write reads back as unknown %v written %q", a.WriteUnknown, a.EMISWritten)
				}
			}},
		{"RecordPatientMatch", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.RecordPatientMatch(ctx, st.DBQ(), id, 4242, "nhs_number", at)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.EMISPatientID != 4242 || a.MatchRule != "nhs_number" || !a.MatchedAt.Equal(at) {
					t.Errorf("match reads back as EMIS %d rule %q at %v", a.EMISPatientID, a.MatchRule, a.MatchedAt)
				}
			}},
		{"RecordMatchAttempt", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.RecordMatchAttempt(ctx, st.DBQ(), id, "no_unique_match", at)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.EMISPatientID != b.EMISPatientID || a.MatchRule != "no_unique_match" || !a.MatchedAt.Equal(at) {
					t.Errorf("match attempt reads back as EMIS %d rule %q at %v", a.EMISPatientID, a.MatchRule, a.MatchedAt)
				}
			}},
		{"DropPatientMatch", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.DropPatientMatch(ctx, st.DBQ(), id, "record_disagrees", at)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.EMISPatientID != 0 || a.WriteUnknown || a.MatchRule != "record_disagrees" || !a.MatchedAt.Equal(at) {
					t.Errorf("dropped match reads back as EMIS %d unknown %v rule %q at %v", a.EMISPatientID, a.WriteUnknown, a.MatchRule, a.MatchedAt)
				}
			}},
		{"LinkPlaceholderPatient", []string{"placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.LinkPlaceholderPatient(ctx, st.DBQ(), id, 4242, "staff")
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "placeholder" || a.EMISPatientID != 4242 || a.MatchRule != "staff" {
					t.Errorf("staff link reads back as %q EMIS %d rule %q", a.State, a.EMISPatientID, a.MatchRule)
				}
			}},
		{"NoteError", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.NoteError(ctx, st.DBQ(), id, "EMIS timed out", at)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.State != b.State || a.LastError != "EMIS timed out" || !a.AlertedAt.Equal(at) {
					t.Errorf("noted error reads back as %q error %q alerted %v", a.State, a.LastError, a.AlertedAt)
				}
			}},
		{"MarkPlaceholderAlerted", []string{"placeholder"},
			func(ctx context.Context, st *store.Store, id string) error {
				return st.MarkPlaceholderAlerted(ctx, st.DBQ(), id, at)
			},
			func(t *testing.T, _, a store.AppointmentRow) {
				if a.State != "placeholder" || !a.AlertedAt.Equal(at) {
					t.Errorf("alerted placeholder reads back as %q alerted %v", a.State, a.AlertedAt)
				}
			}},
		{"MoveBookingTime", nil,
			func(ctx context.Context, st *store.Store, id string) error {
				return st.MoveBookingTime(ctx, st.DBQ(), id, at, 25)
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.SlotID != b.SlotID || !a.StartAt.Equal(at) || a.LengthMin != 25 {
					t.Errorf("moved time reads back as slot %d at %v for %d min", a.SlotID, a.StartAt, a.LengthMin)
				}
			}},
		{"MoveBookingSlot", []string{"booked"},
			func(ctx context.Context, st *store.Store, id string) error {
				a, err := st.Appointment(ctx, st.DBQ(), id)
				if err != nil {
					return err
				}
				return st.MoveBookingSlot(ctx, st.DBQ(), id, "booked",
					store.SlotMove{SlotID: a.SlotID + 100_000, SessionID: 78, StartAt: at, LengthMin: 30, EMISSlotTypeID: 11})
			},
			func(t *testing.T, b, a store.AppointmentRow) {
				if a.State != "booked" || a.SlotID != b.SlotID+100_000 || a.SessionID != 78 || !a.StartAt.Equal(at) ||
					a.LengthMin != 30 || a.EMISSlotTypeID != 11 {
					t.Errorf("moved booking reads back as %+v", a)
				}
			}},
	}
}

// changeFixture is a store with a practice and a patient, in which each seeded appointment
// has a slot of its own.
type changeFixture struct {
	st       *store.Store
	practice store.Practice
	nextSlot int64
}

func newChangeFixture(t *testing.T, st *store.Store) *changeFixture {
	t.Helper()
	ctx := context.Background()
	p, err := st.EnsurePractice(ctx, "A81001", 1, "Riverside")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InsertPatient(ctx, st.DBQ(), store.PatientRow{ID: "pat_1", PracticeGroupID: p.PracticeGroupID}); err != nil {
		t.Fatal(err)
	}
	// The new appointment of a reschedule (ReleaseRescheduled names it).
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		return st.InsertHold(ctx, tx, store.AppointmentRow{ID: "apt_new", Reference: "HL-new", PracticeGroupID: p.PracticeGroupID,
			PracticeID: p.ID, SlotID: -1, SessionID: 1, LengthMin: 10, EMISSlotTypeID: 1, State: "confirming"})
	}); err != nil {
		t.Fatal(err)
	}
	st.SetClock(func() time.Time { return changeAt })
	return &changeFixture{st: st, practice: p}
}

// seed inserts an appointment in state, written into EMIS and with an outcome unknown, an
// error noted and a patient matched, so that every change has something to change.
func (f *changeFixture) seed(t *testing.T, state string) store.AppointmentRow {
	t.Helper()
	ctx := context.Background()
	f.nextSlot++
	id := fmt.Sprintf("apt_%d", f.nextSlot)
	row := store.AppointmentRow{ID: id, Reference: "HL-" + id, PracticeGroupID: f.practice.PracticeGroupID,
		PracticeID: f.practice.ID, SlotID: f.nextSlot, SessionID: 1, StartAt: at.Add(time.Hour), LengthMin: 10,
		EMISSlotTypeID: 1, State: state, ReservedUntil: at.Add(time.Hour), Description: "d", Comment: "c", PatientID: "pat_1"}
	if err := f.st.InTx(ctx, func(tx *store.Tx) error { return f.st.InsertHold(ctx, tx, row) }); err != nil {
		t.Fatal(err)
	}
	earlier := at.Add(-time.Hour)
	for _, err := range []error{
		f.st.RecordPatientMatch(ctx, f.st.DBQ(), id, 1111, "seeded", earlier),
		f.st.NoteError(ctx, f.st.DBQ(), id, "seeded error", earlier),
		f.st.RecordWritten(ctx, f.st.DBQ(), id, "appointment"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.DBQ().ExecContext(ctx, `UPDATE appointments SET write_unknown = 1, updated_at = 1 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return f.read(t, id)
}

func (f *changeFixture) read(t *testing.T, id string) store.AppointmentRow {
	t.Helper()
	a, err := f.st.Appointment(context.Background(), f.st.DBQ(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEachAppointmentChangeReadsBackWhatItSet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newChangeFixture(t, st)
		for _, c := range appointmentChanges() {
			t.Run(c.name, func(t *testing.T) {
				state := "confirming"
				if len(c.from) > 0 {
					state = c.from[0]
				}
				before := f.seed(t, state)
				if err := c.apply(context.Background(), st, before.ID); err != nil {
					t.Fatalf("%s on a %s appointment: %v", c.name, state, err)
				}
				after := f.read(t, before.ID)
				c.check(t, before, after)
				if !after.UpdatedAt.Equal(changeAt) {
					t.Errorf("updated_at reads back as %v, want the store's clock %v", after.UpdatedAt, changeAt)
				}
			})
		}
	})
}

func TestEachGuardedAppointmentChangeRefusesAnotherStateAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newChangeFixture(t, st)
		for _, c := range appointmentChanges() {
			if c.from == nil {
				continue
			}
			for _, state := range allStates {
				if slices.Contains(c.from, state) {
					continue
				}
				t.Run(c.name+"/"+state, func(t *testing.T) {
					before := f.seed(t, state)
					if err := c.apply(context.Background(), st, before.ID); !errors.Is(err, store.ErrStateChanged) {
						t.Fatalf("%s on a %s appointment: %v, want ErrStateChanged", c.name, state, err)
					}
					if after := f.read(t, before.ID); after != before {
						t.Errorf("refused %s changed the appointment:\n got %+v\nwant %+v", c.name, after, before)
					}
				})
			}
		}
	})
}

func TestAnUnguardedAppointmentChangeOfAnUnknownAppointmentIsStateChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		newChangeFixture(t, st)
		for _, c := range appointmentChanges() {
			if c.from != nil {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				if err := c.apply(context.Background(), st, "apt_nobody"); !errors.Is(err, store.ErrStateChanged) {
					t.Fatalf("%s of an appointment that does not exist: %v, want ErrStateChanged", c.name, err)
				}
			})
		}
	})
}

// The unique index, not a check before the write, keeps a slot to one live hold or booking:
// moving onto a slot that has one is ErrSlotHeld and moves nothing.
func TestMovingAHoldOrABookingOntoAHeldSlotIsSlotHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newChangeFixture(t, st)
		ctx := context.Background()
		taken := f.seed(t, "booked")
		for _, tc := range []struct {
			state string
			move  func(id string) error
		}{
			{"reserved", func(id string) error {
				return st.MoveHold(ctx, st.DBQ(), id, store.AppointmentRow{PracticeID: taken.PracticeID, SlotID: taken.SlotID,
					SessionID: taken.SessionID, StartAt: taken.StartAt, LengthMin: 10, EMISSlotTypeID: 1, ReservedUntil: at})
			}},
			{"booked", func(id string) error {
				return st.MoveBookingSlot(ctx, st.DBQ(), id, "booked",
					store.SlotMove{SlotID: taken.SlotID, SessionID: taken.SessionID, StartAt: taken.StartAt, LengthMin: 10})
			}},
		} {
			t.Run(tc.state, func(t *testing.T) {
				before := f.seed(t, tc.state)
				if err := tc.move(before.ID); !errors.Is(err, store.ErrSlotHeld) {
					t.Fatalf("moving a %s appointment onto a booked slot: %v, want ErrSlotHeld", tc.state, err)
				}
				if after := f.read(t, before.ID); after != before {
					t.Errorf("the refused move changed the appointment:\n got %+v\nwant %+v", after, before)
				}
			})
		}
	})
}

// A change told "not this time" (a zero time, a zero slot type) keeps what was recorded: a
// search that never answered does not reset when EMIS was last searched, an error noted
// without an alert does not clear the alert, and a moved booking keeps its slot type.
func TestAnAppointmentChangeGivenNoTimeOrTypeKeepsWhatWasRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newChangeFixture(t, st)
		ctx := context.Background()
		for _, tc := range []struct {
			name  string
			state string
			apply func(id string) error
			kept  func(b, a store.AppointmentRow) bool
		}{
			{"a match attempt that timed out keeps the last search time", "confirming",
				func(id string) error { return st.RecordMatchAttempt(ctx, st.DBQ(), id, "match_timed_out", time.Time{}) },
				func(b, a store.AppointmentRow) bool {
					return a.MatchRule == "match_timed_out" && a.MatchedAt.Equal(b.MatchedAt)
				}},
			{"a dropped match without a search keeps the last search time", "confirming",
				func(id string) error {
					return st.DropPatientMatch(ctx, st.DBQ(), id, "emis_patient_not_found", time.Time{})
				},
				func(b, a store.AppointmentRow) bool { return a.EMISPatientID == 0 && a.MatchedAt.Equal(b.MatchedAt) }},
			{"an error noted without an alert keeps the earlier alert", "confirming",
				func(id string) error { return st.NoteError(ctx, st.DBQ(), id, "again", time.Time{}) },
				func(b, a store.AppointmentRow) bool { return a.LastError == "again" && a.AlertedAt.Equal(b.AlertedAt) }},
			{"a booking moved without a slot type keeps its type", "booked",
				func(id string) error {
					return st.MoveBookingSlot(ctx, st.DBQ(), id, "booked", store.SlotMove{SlotID: 900_000, SessionID: 2, StartAt: at, LengthMin: 10})
				},
				func(b, a store.AppointmentRow) bool {
					return a.SlotID == 900_000 && a.EMISSlotTypeID == b.EMISSlotTypeID
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := f.seed(t, tc.state)
				if before.MatchedAt.IsZero() || before.AlertedAt.IsZero() {
					t.Fatalf("the seed recorded no search or alert: %+v", before)
				}
				if err := tc.apply(before.ID); err != nil {
					t.Fatal(err)
				}
				if after := f.read(t, before.ID); !tc.kept(before, after) {
					t.Errorf("got %+v\nfrom %+v", after, before)
				}
			})
		}
	})
}
