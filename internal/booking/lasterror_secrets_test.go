package booking_test

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
	"herolink/internal/practice"
)

// quotingEMIS is the bundle's sandbox behind an EMIS that, for the methods in fail, answers a
// technical error whose text quotes every request parameter back: the worst an EMIS could do
// with the password, the patient's details and the placeholder's notes.
func quotingEMIS(t *testing.T, w *sandbox.World, fail ...string) string {
	t.Helper()
	real := sandbox.NewServer(w, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/partnerapi/v1/")
		if !slices.Contains(fail, method) {
			real.ServeHTTP(rw, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		var quoted []string
		for k, vs := range r.PostForm {
			for _, v := range vs {
				quoted = append(quoted, k+"="+v)
			}
		}
		slices.Sort(quoted)
		env := emis.Envelope{Method: method, Outcome: emis.OutcomeTechnicalError,
			Error: "technical error processing " + strings.Join(quoted, "; ")}
		rw.Header().Set("Content-Type", "text/xml")
		if err := xml.NewEncoder(rw).Encode(env); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// logRecorder keeps every log line as text, attributes resolved.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// TestAWriteBackErrorKeptForStaffCarriesNoPatientDetailsOrCredentials: EMIS fails the search,
// the booking or the placeholder with an error quoting the request (the patient's names, date
// of birth, NHS number, phone, the placeholder's notes, the session id). What herolink keeps in
// the appointment's last error, shown on the staff pages, and what it logs, carry none of them,
// nor the practice's username or API password.
func TestAWriteBackErrorKeptForStaffCarriesNoPatientDetailsOrCredentials(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       string
		registered bool
	}{
		{"the search of the register fails", emis.MethodGetMatchedPatient, true},
		{"the booking fails", emis.MethodBookAppointment, true},
		{"the placeholder fails", emis.MethodSetSlotType, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			logs := &logRecorder{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			caller, err := emis.NewCaller(emis.Config{BaseURL: quotingEMIS(t, b.world, tc.fail), SupplierID: sandbox.DefaultSupplierID,
				CallTimeout: 3 * time.Second, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			b.svc.Conns = &practice.Service{Store: b.store, Vault: b.practices.Vault, Log: log, Tester: &practice.Tester{Caller: caller}}
			b.svc.Log = log

			var d matching.Demographics
			if tc.registered {
				d, _ = b.emisPatient(t)
			} else {
				d = matching.Demographics{FamilyName: "Quennell-Ashworth", GivenName: "Philippa", DateOfBirth: "1987-06-05",
					NHSNumber: validNHS(t, 943476591), Postcode: "LS1 4AP"}
			}
			a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
			if err := b.svc.Writeback(ctx, a.ID); err == nil {
				t.Fatalf("write-back succeeded although EMIS failed %s", tc.fail)
			}
			_, waiting, err := b.svc.StaffQueue(ctx, b.practiceID)
			if err != nil {
				t.Fatal(err)
			}
			if len(waiting) != 1 || waiting[0].LastError == "" {
				t.Fatalf("waiting = %+v, want the booking with its last error", waiting)
			}
			lastError := waiting[0].LastError
			t.Logf("last error: %s", lastError)
			if !strings.Contains(lastError, tc.fail) {
				t.Fatalf("the last error %q does not name the failing call %s: the scenario no longer reaches it", lastError, tc.fail)
			}
			secrets := []string{d.FamilyName, d.GivenName, d.DateOfBirth, d.NHSNumber, d.Postcode, "07700 900123",
				sandbox.DemoAPIPassword, "Herouser"}
			for where, text := range map[string]string{"the last error": lastError, "the log": logs.text()} {
				lower := strings.ToLower(text)
				for _, s := range secrets {
					if strings.Contains(lower, strings.ToLower(s)) {
						t.Errorf("%s carries %q:\n%s", where, s, text)
					}
				}
			}
		})
	}
}
