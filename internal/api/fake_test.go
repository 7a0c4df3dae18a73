package api_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"herolink/internal/booking"
	"herolink/internal/matching"
)

// fakeBooking is a booking core in memory with the contract's rules that the API must relay:
// everything is scoped to a practice group, and any method can be made to fail.
type fakeBooking struct {
	mu           sync.Mutex
	practice     map[string]int64 // group -> its practice
	slots        map[string][]booking.Slot
	appointments map[string]*fakeAppointment
	patients     map[string]*fakePatient
	fail         map[string]error // method -> the error it answers next
	calls        map[string]int
	hook         func(method string) // called outside the lock at the start of each method
	lastQuery    booking.SlotQuery
	n            int
}

type fakeAppointment struct {
	group string
	a     booking.Appointment
}

type fakePatient struct {
	group string
	p     booking.Patient
}

var day = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)

func newFakeBooking(groupA string, practiceA int64, groupB string, practiceB int64) *fakeBooking {
	f := &fakeBooking{practice: map[string]int64{groupA: practiceA, groupB: practiceB}, slots: map[string][]booking.Slot{},
		appointments: map[string]*fakeAppointment{}, patients: map[string]*fakePatient{}, fail: map[string]error{}, calls: map[string]int{}}
	for group, pid := range f.practice {
		for i := range 3 {
			start := day.Add(time.Duration(i) * 10 * time.Minute)
			f.slots[group] = append(f.slots[group], booking.Slot{ID: fmt.Sprintf("slt_%d_%d", pid, i+1), PracticeID: pid,
				StartAt: start, EndAt: start.Add(10 * time.Minute), AppointmentTypeID: "at_1", LocationID: "loc_1",
				PractitionerIDs: []string{"pr_1"}})
		}
	}
	return f
}

// enter counts a call, runs the hook, and answers a forced failure if one is set.
func (f *fakeBooking) enter(method string) error {
	f.mu.Lock()
	f.calls[method]++
	hook := f.hook
	err := f.fail[method]
	delete(f.fail, method)
	f.mu.Unlock()
	if hook != nil {
		hook(method)
	}
	return err
}

func (f *fakeBooking) failNext(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = err
}

func (f *fakeBooking) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func refuse(code booking.Code, msg string, fields ...booking.FieldError) error {
	return &booking.Error{Code: code, Message: msg, Fields: fields}
}

func (f *fakeBooking) AppointmentTypes(ctx context.Context, group string) ([]booking.AppointmentType, error) {
	if err := f.enter("AppointmentTypes"); err != nil {
		return nil, err
	}
	return []booking.AppointmentType{{ID: "at_1", PracticeID: f.practice[group], Name: "GP appointment", DurationMinutes: 10, Channel: "in_person"}}, nil
}

func (f *fakeBooking) Locations(ctx context.Context, group string) ([]booking.Location, error) {
	if err := f.enter("Locations"); err != nil {
		return nil, err
	}
	return []booking.Location{{ID: "loc_1", PracticeID: f.practice[group], Name: "Riverside"}}, nil
}

func (f *fakeBooking) Practitioners(ctx context.Context, group string) ([]booking.Practitioner, error) {
	if err := f.enter("Practitioners"); err != nil {
		return nil, err
	}
	return nil, nil // an empty list must still be a list
}

func (f *fakeBooking) SlotsEncoded(ctx context.Context, group string, q booking.SlotQuery, encode func(booking.SlotPage) []byte) ([]byte, error) {
	page, err := f.Slots(ctx, group, q)
	if err != nil {
		return nil, err
	}
	return encode(page), nil
}

func (f *fakeBooking) Slots(ctx context.Context, group string, q booking.SlotQuery) (booking.SlotPage, error) {
	if err := f.enter("Slots"); err != nil {
		return booking.SlotPage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	start := 0
	if strings.HasPrefix(q.Cursor, "c") {
		// The real core's cursor (the document's example): past everything this fake holds.
		return booking.SlotPage{Slots: []booking.Slot{}}, nil
	}
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil || n < 0 || n > len(f.slots[group]) {
			return booking.SlotPage{}, refuse(booking.CodeInvalid, "bad cursor", booking.FieldError{Field: "cursor", Code: "invalid", Message: "not a cursor"})
		}
		start = n
	}
	all := f.slots[group]
	end := min(start+q.Limit, len(all))
	page := booking.SlotPage{Slots: all[start:end]}
	if end < len(all) {
		page.NextCursor = strconv.Itoa(end)
	}
	return page, nil
}

func (f *fakeBooking) findSlot(group, id string) (booking.Slot, bool) {
	for _, s := range f.slots[group] {
		if s.ID == id {
			return s, true
		}
	}
	return booking.Slot{}, false
}

func (f *fakeBooking) Slot(ctx context.Context, group, id string) (booking.Slot, error) {
	if err := f.enter("Slot"); err != nil {
		return booking.Slot{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.findSlot(group, id); ok {
		return s, nil
	}
	return booking.Slot{}, refuse(booking.CodeNotFound, "there is no slot "+id+" in this practice group")
}

func (f *fakeBooking) newAppointment(group string, s booking.Slot, r booking.ReserveRequest) *booking.Appointment {
	f.n++
	now := day.Add(-24 * time.Hour)
	a := booking.Appointment{ID: fmt.Sprintf("apt_%d", f.n), Reference: fmt.Sprintf("HL-%04d", f.n), PracticeGroupID: group,
		PracticeID: s.PracticeID, SlotID: s.ID, StartAt: s.StartAt, EndAt: s.EndAt, AppointmentTypeID: s.AppointmentTypeID,
		LocationID: s.LocationID, PractitionerIDs: s.PractitionerIDs, State: booking.StateReserved,
		ReservedUntil: now.Add(15 * time.Minute), Description: r.Description, Comment: r.Comment, CreatedAt: now, UpdatedAt: now}
	f.appointments[a.ID] = &fakeAppointment{group: group, a: a}
	return &f.appointments[a.ID].a
}

func (f *fakeBooking) Reserve(ctx context.Context, group, keyID string, r booking.ReserveRequest) (booking.Appointment, error) {
	if err := f.enter("Reserve"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.findSlot(group, r.SlotID)
	if !ok {
		return booking.Appointment{}, refuse(booking.CodeNotFound, "there is no slot "+r.SlotID+" in this practice group")
	}
	for _, a := range f.appointments {
		if a.a.SlotID == r.SlotID && a.a.State.Live() {
			return booking.Appointment{}, refuse(booking.CodeSlotUnavailable, "slot "+r.SlotID+" is already held or booked")
		}
	}
	return *f.newAppointment(group, s, r), nil
}

func (f *fakeBooking) get(group, id string) (*booking.Appointment, error) {
	a, ok := f.appointments[id]
	if !ok || a.group != group {
		return nil, refuse(booking.CodeNotFound, "there is no appointment "+id+" in this practice group")
	}
	return &a.a, nil
}

func (f *fakeBooking) UpdateHold(ctx context.Context, group, id string, r booking.ReserveRequest) (booking.Appointment, error) {
	if err := f.enter("UpdateHold"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.get(group, id)
	if err != nil {
		return booking.Appointment{}, err
	}
	if a.State != booking.StateReserved {
		return booking.Appointment{}, refuse(booking.CodeInvalidState, "appointment "+id+" is "+string(a.State)+", not an unconfirmed hold")
	}
	a.Description, a.Comment = r.Description, r.Comment
	return *a, nil
}

func (f *fakeBooking) Book(ctx context.Context, group, id string, p booking.PatientInput) (booking.Appointment, error) {
	if err := f.enter("Book"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.get(group, id)
	if err != nil {
		return booking.Appointment{}, err
	}
	if a.State != booking.StateReserved {
		return booking.Appointment{}, refuse(booking.CodeInvalidState, "appointment "+id+" is "+string(a.State))
	}
	if p.PatientID != "" {
		if pt, ok := f.patients[p.PatientID]; !ok || pt.group != group {
			return booking.Appointment{}, refuse(booking.CodeInvalid, "there is no patient "+p.PatientID+" in this practice group",
				booking.FieldError{Field: "patient_id", Code: "not_found", Message: "no such patient"})
		}
		a.PatientID = p.PatientID
	} else {
		a.PatientID = f.addPatient(group, p).ID
	}
	a.State = booking.StateConfirming
	return *a, nil
}

func (f *fakeBooking) Appointment(ctx context.Context, group, id string) (booking.Appointment, error) {
	if err := f.enter("Appointment"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.get(group, id)
	if err != nil {
		return booking.Appointment{}, err
	}
	return *a, nil
}

func (f *fakeBooking) Cancel(ctx context.Context, group, id string, c booking.CancelRequest) (booking.Appointment, error) {
	if err := f.enter("Cancel"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.get(group, id)
	if err != nil {
		return booking.Appointment{}, err
	}
	if c.Staff {
		return booking.Appointment{}, fmt.Errorf("partners must never cancel as staff")
	}
	a.State, a.CancelledBy, a.CancelReason = booking.StateCancelled, "partner", c.Reason
	return *a, nil
}

func (f *fakeBooking) Reschedule(ctx context.Context, group, id string, r booking.ReserveRequest) (booking.Appointment, error) {
	if err := f.enter("Reschedule"); err != nil {
		return booking.Appointment{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, err := f.get(group, id)
	if err != nil {
		return booking.Appointment{}, err
	}
	s, ok := f.findSlot(group, r.SlotID)
	if !ok {
		return booking.Appointment{}, refuse(booking.CodeNotFound, "there is no slot "+r.SlotID)
	}
	n := f.newAppointment(group, s, r)
	n.State, n.RescheduledFrom, n.PatientID, n.ReservedUntil = booking.StateConfirming, old.ID, old.PatientID, time.Time{}
	old.RescheduledTo = n.ID
	return *n, nil
}

func (f *fakeBooking) addPatient(group string, in booking.PatientInput) booking.Patient {
	f.n++
	p := booking.Patient{ID: fmt.Sprintf("pat_%d", f.n), PracticeGroupID: group, Demographics: in.Demographics, Email: in.Email,
		Phone: in.Phone, CreatedAt: day.Add(-48 * time.Hour)}
	f.patients[p.ID] = &fakePatient{group: group, p: p}
	return p
}

func (f *fakeBooking) RegisterPatient(ctx context.Context, group string, in booking.PatientInput) (booking.Patient, error) {
	if err := f.enter("RegisterPatient"); err != nil {
		return booking.Patient{}, err
	}
	if err := matching.ValidateDemographics(in.Demographics); err != nil {
		return booking.Patient{}, err // the real core wraps these; the API must answer 422 either way
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addPatient(group, in), nil
}

func (f *fakeBooking) Patient(ctx context.Context, group, id string) (booking.Patient, error) {
	if err := f.enter("Patient"); err != nil {
		return booking.Patient{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.patients[id]
	if !ok || p.group != group {
		return booking.Patient{}, refuse(booking.CodeNotFound, "there is no patient "+id+" in this practice group")
	}
	out := p.p
	out.Links = []booking.PatientLink{{PracticeID: f.practice[group], EMISPatientID: 533, Rule: matching.RuleNHSNumberAndDOB, LinkedAt: day}}
	return out, nil
}

func (f *fakeBooking) PatientLinkCheck(ctx context.Context, group, id string, practiceID int64) (booking.LinkCheck, error) {
	if err := f.enter("PatientLinkCheck"); err != nil {
		return booking.LinkCheck{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.patients[id]
	if !ok || p.group != group {
		return booking.LinkCheck{}, refuse(booking.CodeNotFound, "there is no patient "+id+" in this practice group")
	}
	if practiceID != 0 && practiceID != f.practice[group] {
		return booking.LinkCheck{}, refuse(booking.CodeInvalid, "practice_id is not a practice of this group",
			booking.FieldError{Field: "practice_id", Code: "not_in_group", Message: "not a practice of this group"})
	}
	// Dorothy Demo is on the register; anyone else is not linked.
	if p.p.Demographics.GivenName == "Dorothy" {
		return booking.LinkCheck{PracticeID: f.practice[group], Linked: true}, nil
	}
	return booking.LinkCheck{PracticeID: f.practice[group], Reason: booking.LinkNoUniqueMatch}, nil
}
