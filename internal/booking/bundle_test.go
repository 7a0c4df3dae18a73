package booking_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/jobs"
	"herolink/internal/mapping"
	"herolink/internal/matching"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
)

// bundle is the booking core of the demo practice (Riverside, A81001), connected to an
// in-process EMIS sandbox, mapped the way staff would and with its diary copied once. Its
// River client enqueues but does not run jobs: tests run the write-back themselves, step by
// step, unless they start River.
type bundle struct {
	world      *sandbox.World
	org        *sandbox.Org
	store      *store.Store
	practices  *practice.Service
	engine     *slotsync.Engine
	svc        *booking.Service
	river      jobs.Queue
	practiceID int64
	group      string
	clock      *clock
}

// clock is a settable clock shared by the store and the booking service.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.offset += d; c.mu.Unlock() }

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, SecondDemo: true})
	srv := httptest.NewServer(sandbox.NewServer(w, nil))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	st := storetest.Open(t)
	clk := &clock{}
	st.SetClock(clk.now)
	keys, err := vault.LoadFile(filepath.Join(dir, "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	caller, err := emis.NewCaller(emis.Config{BaseURL: srv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 3 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ps := &practice.Service{Store: st, Vault: keys, Log: log, Tester: &practice.Tester{
		Directory: &practice.HTTPDirectory{BaseURL: srv.URL + "/sandbox/v1/directory"}, Caller: caller}}
	res, err := ps.Connect(ctx, practice.Actor{Name: "setup"}, practice.ConnectRequest{
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}, Spaces: practice.SpacesKeep})
	if err != nil || !res.Saved {
		t.Fatalf("connect the demo practice: %+v, %v", res, err)
	}
	maps := &mapping.Service{Store: st, Conns: ps, Log: log}
	if err := maps.AdoptDefaults(ctx, "setup", res.PracticeID); err != nil {
		t.Fatal(err)
	}
	org, err := w.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	svc := &booking.Service{Store: st, Conns: ps, Log: log, Now: clk.now, MatchDeadline: time.Hour, AlertAfter: time.Hour}
	workers := river.NewWorkers()
	booking.AddWorkers(workers, svc)
	rc, err := jobs.New(st, &river.Config{
		Queues:        map[string]river.QueueConfig{booking.WritebackQueue: {MaxWorkers: 4}},
		Workers:       workers,
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc.River = rc
	p, err := st.PracticeByID(ctx, res.PracticeID)
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{world: w, org: org, store: st, practices: ps, svc: svc, river: rc, practiceID: p.ID, group: p.PracticeGroupID, clock: clk,
		engine: &slotsync.Engine{Store: st, Conns: ps, ActiveTypes: func(ctx context.Context, id int64) ([]int, error) { return st.ActiveSlotTypeIDs(ctx, id) }}}
	b.sync(t)
	return b
}

// sync copies the next two weeks of the diary from EMIS.
func (b *bundle) sync(t *testing.T) {
	t.Helper()
	today := emis.Today(time.Now())
	if _, err := b.engine.Sync(context.Background(), b.practiceID, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}
}

// freeSlots lists free slots from tomorrow (outside the cancellation cut-off: day after).
func (b *bundle) freeSlots(t *testing.T, n int) []booking.Slot {
	t.Helper()
	from := time.Now().AddDate(0, 0, 2)
	page, err := b.svc.Slots(context.Background(), b.group, booking.SlotQuery{From: from, To: from.AddDate(0, 0, 10), Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Slots) < n {
		t.Fatalf("wanted %d free slots, found %d", n, len(page.Slots))
	}
	return page.Slots
}

func (b *bundle) reserve(t *testing.T, slot string) booking.Appointment {
	t.Helper()
	a, err := b.svc.Reserve(context.Background(), b.group, "key_test", booking.ReserveRequest{SlotID: slot, Description: "Sore throat"})
	if err != nil {
		t.Fatalf("reserve %s: %v", slot, err)
	}
	return a
}

// patient registers a new patient in EMIS with a valid NHS number and returns their details.
var patientSeq struct {
	sync.Mutex
	n int
}

func (b *bundle) emisPatient(t *testing.T) (matching.Demographics, int64) {
	t.Helper()
	patientSeq.Lock()
	patientSeq.n++
	n := patientSeq.n
	patientSeq.Unlock()
	nhs := validNHS(t, 990000000+n*7)
	family, first, dob, pc := fmt.Sprintf("Testperson%c%c", 'a'+n%26, 'a'+(n/26)%26), "Alex", "1985-03-14", "LS1 4AP"
	p, err := b.org.RegisterPatient(sandbox.PatientInput{NHSNumber: &nhs, FamilyName: &family, FirstNames: &first, DateOfBirth: &dob, Postcode: &pc})
	if err != nil {
		t.Fatal(err)
	}
	return matching.Demographics{NHSNumber: nhs, FamilyName: family, GivenName: first, DateOfBirth: dob, Postcode: pc}, p.ID
}

// validNHS makes a valid 10-digit NHS number from a 9-digit stem, skipping stems whose
// check digit would be 10.
func validNHS(t *testing.T, stem int) string {
	t.Helper()
	for ; ; stem++ {
		s := fmt.Sprintf("%09d", stem)
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(s[i]-'0') * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check == 10 {
			continue
		}
		n := s + fmt.Sprint(check)
		if _, err := matching.ValidateNHSNumber(n); err != nil {
			t.Fatalf("made an invalid NHS number %s: %v", n, err)
		}
		return n
	}
}

// writeback runs the write-back of one appointment until it settles or fails n times.
func (b *bundle) writeback(t *testing.T, id string) error {
	t.Helper()
	var err error
	for range 3 {
		if err = b.svc.Writeback(context.Background(), id); err == nil {
			return nil
		}
		var snooze *river.JobSnoozeError
		if errors.As(err, &snooze) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return err
}

func (b *bundle) get(t *testing.T, id string) booking.Appointment {
	t.Helper()
	a, err := b.svc.Appointment(context.Background(), b.group, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// emisSlot reads a slot straight from the sandbox.
func (b *bundle) emisSlot(t *testing.T, publicID string) emis.Slot {
	t.Helper()
	var pid, sid int64
	if _, err := fmt.Sscanf(strings.ReplaceAll(publicID, "_", " "), "slt %d %d", &pid, &sid); err != nil {
		t.Fatalf("slot id %q: %v", publicID, err)
	}
	sl, err := b.org.GetSlot(sid)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

// artefacts counts what EMIS holds carrying a booking's reference: appointments and placeholders.
func (b *bundle) artefacts(t *testing.T) map[string]int {
	t.Helper()
	today := emis.Today(time.Now())
	sessions, err := b.org.ListSessions(today, today.AddDays(20), true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range sessions {
		for _, sl := range s.Slots {
			if i := strings.Index(sl.Notes, "HL-"); i >= 0 && len(sl.Notes) >= i+11 {
				out[sl.Notes[i:i+11]]++
			}
		}
	}
	return out
}

func wantCode(t *testing.T, err error, code booking.Code) {
	t.Helper()
	if got := booking.CodeOf(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func asError(err error, target **booking.Error) bool { return errors.As(err, target) }

func storeAudit(actor string) store.AuditEntry {
	return store.AuditEntry{Actor: actor, Action: "booking_policy_changed"}
}
