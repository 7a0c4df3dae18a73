package practice_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
)

// testBundle is a herolink practice service wired to an in-process EMIS sandbox.
type testBundle struct {
	world   *sandbox.World
	demo    *sandbox.Org
	srv     *httptest.Server
	store   *store.Store
	service *practice.Service
	dbPath  string
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type bundleOpts struct {
	preconfigured bool
	stripHints    bool // EMIS answers outcome codes without error texts, as a terse real EMIS may
	supplierID    string
	now           func() time.Time // the sandbox's clock; time.Now if nil
}

var stripErrorText = regexp.MustCompile(`<Error>[^<]*</Error>`)

func setup(t *testing.T, o bundleOpts) *testBundle {
	t.Helper()
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: o.preconfigured, Now: o.now})
	var h http.Handler = sandbox.NewServer(w, nil)
	if o.stripHints {
		inner := h
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			body := stripErrorText.ReplaceAll(rec.Body.Bytes(), []byte("<Error></Error>"))
			for k, v := range rec.Header() {
				rw.Header()[k] = v
			}
			rw.Header().Del("Content-Length")
			rw.WriteHeader(rec.Code)
			_, _ = rw.Write(body)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "herolink.db")
	var st *store.Store
	if storetest.Engine() == store.Postgres {
		st = storetest.Open(t)
	} else {
		st = storetest.OpenSQLiteAt(t, dbPath) // the test reads the file
	}
	keys, err := vault.LoadFile(filepath.Join(dir, "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	supplier := sandbox.DefaultSupplierID
	if o.supplierID != "" {
		supplier = o.supplierID
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	caller, err := emis.NewCaller(emis.Config{BaseURL: srv.URL, SupplierID: supplier, CallTimeout: 3 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc := &practice.Service{Store: st, Vault: keys, Log: log, Tester: &practice.Tester{
		Directory: &practice.HTTPDirectory{BaseURL: srv.URL + "/sandbox/v1/directory"}, Caller: caller}}
	demo, err := w.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{world: w, demo: demo, srv: srv, store: st, service: svc, dbPath: dbPath, logs: logs}
}

var support = practice.Actor{Name: "support@herolink"}

func (b *testBundle) connect(t *testing.T, username, password string) practice.ConnectResult {
	t.Helper()
	res, err := b.service.Connect(context.Background(), support, practice.ConnectRequest{
		Form: practice.Form{ODS: sandbox.DemoODS, Username: username, Password: password}, Spaces: practice.SpacesKeep})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// followGuide performs the guide in the sandbox as a practice manager would, with apiPassword.
func (b *testBundle) followGuide(t *testing.T, apiPassword string) {
	t.Helper()
	str := func(s string) *string { return &s }
	no := false
	if _, err := b.demo.CreateUser(sandbox.UserInput{Title: str("Mr"), FirstName: str("Hero"), LastName: str("User"),
		Username: str("Herouser"), Password: str(emisUserPassword), MustChangePassword: &no,
		JobCategory: str("Manager"), RBACRole: str("Practice Manager SJR004")}); err != nil {
		t.Fatal(err)
	}
	must(t, b.demo.Activate(sandbox.HeroProductKey))
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", apiPassword))
	must(t, b.demo.SetLoginAccess(sandbox.HeroProductKey, "Herouser", true, true))
	yes := true
	if _, err := b.demo.AddSlotType(sandbox.SlotTypeInput{Name: str("Hero unregistered patient"), Bookable: &yes}); err != nil {
		t.Fatal(err)
	}
}

const (
	apiPassword      = "HeroApi2026x"
	emisUserPassword = "EmisUserPw1!"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll is the database as bytes on disk, including the WAL, for secret scans.
func readAll(t *testing.T, paths ...string) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		data, err := readFileIfExists(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return all
}

func readFileIfExists(p string) ([]byte, error) {
	f, err := openIfExists(p)
	if f == nil || err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
