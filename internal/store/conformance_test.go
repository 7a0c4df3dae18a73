package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// The conformance suite: every exported store method, run on SQLite and on PostgreSQL through
// storetest.Each (subtests sqlite/... and postgres/...), one file per entity, the way River's
// riverdrivertest exercises every driver. Fixtures are built through the store's own methods;
// raw SQL (through DBQ) only puts rows into states no fixture method reaches.

// epoch is the suite's fixed clock: 2026-03-02 09:00 UTC, a Monday.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock for st.SetClock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// each runs fn on both engines with the store's clock fixed at epoch.
func each(t *testing.T, fn func(t *testing.T, st *store.Store, c *clock)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := &clock{t: epoch}
		st.SetClock(c.now)
		fn(t, st, c)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// exec runs test-only SQL (portable, ? placeholders) on the store's database.
func exec(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.DBQ().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// count is the single number query answers.
func count(t *testing.T, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DBQ().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditOf(action string) store.AuditEntry {
	return store.AuditEntry{Actor: "test", Action: action}
}

// fixture is a connected practice with EMIS's configuration read: site 501 mapped to a
// location, holder 601 mapped to a practitioner, slot type 1 bookable (published), slot type 2
// for unregistered patients, slot type 3 not reviewed.
type fixture struct {
	practice store.Practice
	conn     store.Connection
	location store.Location
	clinic   store.Practitioner
	apptType store.AppointmentType
}

func newPractice(t *testing.T, st *store.Store, ods string) store.Practice {
	t.Helper()
	p, err := st.EnsurePractice(context.Background(), ods, 1000+len(ods), "Practice "+ods)
	must(t, err)
	return p
}

func connect(t *testing.T, st *store.Store, p store.Practice) store.Connection {
	t.Helper()
	c, err := st.ActivateConnection(context.Background(), store.NewConnection{PracticeID: p.ID, Username: "user-" + p.ODS,
		PasswordSealed: []byte{1, 2, 3, 0, 255}, KeyID: "k1", ConnectedBy: "alice", Checklist: `["ok"]`,
		NextCheck: epoch.Add(time.Hour)}, auditOf("connect"))
	must(t, err)
	return c
}

func setUp(t *testing.T, st *store.Store, ods string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{practice: newPractice(t, st, ods)}
	f.conn = connect(t, st, f.practice)
	pid := f.practice.ID
	_, err := st.SaveEMISConfiguration(ctx, pid, store.EMISConfiguration{
		Sites:   []store.EMISSite{{EMISID: 501, Name: "Main Surgery", Postcode: "AB1 2CD"}, {EMISID: 502, Name: "Branch"}},
		Holders: []store.EMISHolder{{EMISID: 601, Title: "Dr", FirstNames: "Sarah", LastName: "Ahmed", JobCategory: "GP", DisplayName: "Dr Sarah Ahmed"}, {EMISID: 602, DisplayName: "Nurse Jo Bloggs", LastName: "Bloggs"}},
		SlotTypes: []store.EMISSlotType{{EMISID: 1, Name: "Routine", EMISBookable: true}, {EMISID: 2, Name: "Unregistered", EMISBookable: true},
			{EMISID: 3, Name: "Urgent", EMISBookable: false}},
	}, auditOf("config"))
	must(t, err)
	must(t, st.SetSlotTypeFeature(ctx, pid, 1, store.FeatureBookable,
		&store.AppointmentType{Name: "Routine appointment", DurationMinutes: 10, Channel: store.ChannelInPerson}, auditOf("feature")))
	must(t, st.SetSlotTypeFeature(ctx, pid, 2, store.FeatureUnregistered, nil, auditOf("feature")))
	f.location, err = st.CreateLocation(ctx, store.Location{PracticeID: pid, Name: "Main Surgery", EMISSiteID: 501}, auditOf("location"))
	must(t, err)
	f.clinic, err = st.CreatePractitioner(ctx, store.Practitioner{PracticeID: pid, Name: "Dr Ahmed", EMISHolderID: 601}, auditOf("practitioner"))
	must(t, err)
	types, err := st.AppointmentTypes(ctx, pid)
	must(t, err)
	if len(types) != 1 {
		t.Fatalf("appointment types after publishing one: %+v", types)
	}
	f.apptType = types[0]
	return f
}

// slotAt is the start of the n-th 10-minute slot of the session on day d after epoch.
func slotAt(d, n int) time.Time {
	return epoch.AddDate(0, 0, d).Add(time.Duration(n) * 10 * time.Minute)
}

// diary stores session 900+d on day d (site 501, holder 601) with slots 1000*d+n, all of slot
// type 1 and Available unless statuses says otherwise, as a full sync pass would.
func diary(t *testing.T, st *store.Store, pid int64, d int, slots ...store.SlotRow) store.DiaryDiff {
	t.Helper()
	se := session(d)
	for i := range slots {
		slots[i].SessionID = se.ID
	}
	diff := store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: []store.SessionRow{se},
		Slots: map[int64][]store.SlotRow{se.ID: slots}}
	_, err := st.ApplyDiary(context.Background(), diff)
	must(t, err)
	return diff
}

// session is diary's session for day d: 900+d, at site 501, held by 601.
func session(d int) store.SessionRow {
	start := slotAt(d, 0)
	return store.SessionRow{ID: int64(900 + d), Date: start.Format("2006-01-02"), StartAt: start, EndAt: start.Add(3 * time.Hour),
		SlotLength: 10, Name: "Morning", SiteID: 501, HolderIDs: []int64{601}, Hash: "h" + start.Format("0102")}
}

// slot is an Available slot of type 1 in diary's session for day d.
func slot(d, n int) store.SlotRow {
	return store.SlotRow{ID: int64(1000*d + n), StartAt: slotAt(d, n), LengthMin: 10, TypeID: 1, Status: "Available"}
}

// hold is a reserved appointment on slot (d, n) of practice p, reserved for 15 minutes.
func hold(p store.Practice, id string, d, n int) store.AppointmentRow {
	return store.AppointmentRow{ID: id, Reference: "HL-" + id, PracticeGroupID: p.PracticeGroupID, PracticeID: p.ID,
		SlotID: int64(1000*d + n), SessionID: int64(900 + d), StartAt: slotAt(d, n), LengthMin: 10, EMISSlotTypeID: 1,
		State: "reserved", ReservedUntil: epoch.Add(15 * time.Minute)}
}

func insertHold(t *testing.T, st *store.Store, a store.AppointmentRow) error {
	t.Helper()
	return st.InTx(context.Background(), func(tx *store.Tx) error { return st.InsertHold(context.Background(), tx, a) })
}
