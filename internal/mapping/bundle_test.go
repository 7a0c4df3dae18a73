package mapping_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/practice"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
)

// testBundle is the mapping service of a practice connected to an in-process EMIS sandbox
// whose demo practice (6 GPs and 2 nurses at 2 sites, slot types 1-5 and 6 "Hero unregistered
// patient") has followed the setup guide.
type testBundle struct {
	world      *sandbox.World
	demo       *sandbox.Org
	store      *store.Store
	practices  *practice.Service
	svc        *mapping.Service
	practiceID int64
	changes    *changeLog
}

// changeLog records the practices OnChange heard about.
type changeLog struct {
	mu  sync.Mutex
	ids []int64
}

func (c *changeLog) add(id int64) { c.mu.Lock(); c.ids = append(c.ids, id); c.mu.Unlock() }

func (c *changeLog) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.ids) }

const who = "pm@a81001"

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	srv := httptest.NewServer(sandbox.NewServer(w, nil))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	st := storetest.Open(t)
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
	demo, err := w.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	changes := &changeLog{}
	svc := &mapping.Service{Store: st, Conns: ps, Log: log, OnChange: changes.add}
	return &testBundle{world: w, demo: demo, store: st, practices: ps, svc: svc, practiceID: res.PracticeID, changes: changes}
}

// refreshed is a bundle whose copy of the EMIS configuration has been read.
func refreshed(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	if _, err := b.svc.RefreshFromEMIS(context.Background(), who, b.practiceID); err != nil {
		t.Fatal(err)
	}
	return b
}

// holder is the demo practice's i-th session holder as EMIS lists it.
func (b *testBundle) holder(t *testing.T, i int) sandbox.Holder {
	t.Helper()
	hs := b.demo.ListHolders()
	if i >= len(hs) {
		t.Fatalf("the demo practice has %d session holders", len(hs))
	}
	return hs[i]
}

func (b *testBundle) site(t *testing.T, i int) sandbox.Site {
	t.Helper()
	ss := b.demo.ListSites()
	if i >= len(ss) {
		t.Fatalf("the demo practice has %d sites", len(ss))
	}
	return ss[i]
}

// auditActions lists the practice's audit actions, oldest first.
func (b *testBundle) auditActions(t *testing.T) []string {
	t.Helper()
	es, err := b.store.ListAudit(context.Background(), b.practiceID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

// lastAudit is the newest audit line of the practice.
func (b *testBundle) lastAudit(t *testing.T) store.AuditEntry {
	t.Helper()
	es, err := b.store.ListAudit(context.Background(), b.practiceID, 1)
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit line: %v", err)
	}
	return es[0]
}

// mustRefuse fails unless err is a *mapping.Error of that kind and field whose message says
// every text.
func mustRefuse(t *testing.T, err error, kind error, field string, texts ...string) {
	t.Helper()
	var me *mapping.Error
	if !errors.As(err, &me) {
		t.Fatalf("got %v (%T), want a refusal (%v)", err, err, kind)
	}
	if !errors.Is(err, kind) || me.Field != field {
		t.Fatalf("refused as %v on field %q (%q), want %v on %q", me.Kind, me.Field, me.Message, kind, field)
	}
	for _, s := range texts {
		if !strings.Contains(me.Message, s) {
			t.Fatalf("the message %q does not say %q", me.Message, s)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func sandboxHolder(title, first, last string) sandbox.HolderInput {
	return sandbox.HolderInput{Title: title, FirstName: first, LastName: last, JobCategory: "General Medical Practitioner"}
}
