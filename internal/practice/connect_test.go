package practice_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/store"
)

func TestConnectionFormRefusesBadInputWithSpecificMessagesAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	long := strings.Repeat("x", 200)
	cases := []struct {
		name  string
		form  practice.Form
		field string
		says  string
	}{
		{"empty ODS code", practice.Form{ODS: " ", Username: "Herouser", Password: apiPassword}, "ods", "Enter your practice's ODS code"},
		{"ODS code of the wrong shape", practice.Form{ODS: "A8100", Username: "Herouser", Password: apiPassword}, "ods", `"A8100" is not a GP practice ODS code`},
		{"ODS code with a stray letter", practice.Form{ODS: "A81O01", Username: "Herouser", Password: apiPassword}, "ods", "letter followed by five digits"},
		{"empty username", practice.Form{ODS: "A81001", Username: "", Password: apiPassword}, "username", "Enter the EMIS username"},
		{"username with a space inside", practice.Form{ODS: "A81001", Username: "Hero user", Password: apiPassword}, "username", "no spaces inside"},
		{"username far too long", practice.Form{ODS: "A81001", Username: long, Password: apiPassword}, "username", "longer than 64"},
		{"empty API password", practice.Form{ODS: "A81001", Username: "Herouser", Password: ""}, "password", "API password you set in EMAS Manager"},
		{"API password with a tab", practice.Form{ODS: "A81001", Username: "Herouser", Password: "Hero\tApi2026"}, "password", "invisible character"},
		{"API password far too long", practice.Form{ODS: "A81001", Username: "Herouser", Password: long}, "password", "longer than 128"},
	}
	for _, c := range cases {
		res, err := b.service.Connect(context.Background(), support, practice.ConnectRequest{Form: c.form})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, fe := range res.FieldErrors {
			if fe.Field == c.field && strings.Contains(fe.Message, c.says) {
				found = true
			}
		}
		if !found || res.Test != nil || res.Saved {
			t.Errorf("%s: errors %+v (tested %v), want %s saying %q", c.name, res.FieldErrors, res.Test != nil, c.field, c.says)
		}
	}
	ps, _ := b.store.ListPractices(context.Background())
	audit, _ := b.store.ListAudit(context.Background(), 0, 10)
	if len(ps) != 0 || len(audit) != 0 {
		t.Fatalf("bad input stored something: %d practices, %d audit lines", len(ps), len(audit))
	}
	st, _ := b.world.Stats(0)
	if st.Total != 0 {
		t.Fatalf("bad input reached EMIS: %+v", st.Calls)
	}
}

func TestConnectionFormReportsSpacesAndTestsWithoutThemWhenAsked(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	form := practice.Form{ODS: " a81001 ", Username: "Herouser", Password: sandbox.DemoAPIPassword + " "}
	res, err := b.service.Connect(ctx, support, practice.ConnectRequest{Form: form})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.SpaceWarnings) != 1 || res.SpaceWarnings[0].Field != "password" || res.Test != nil {
		t.Fatalf("space warnings = %+v, tested %v", res.SpaceWarnings, res.Test != nil)
	}
	if msg := res.SpaceWarnings[0].Message(); !strings.Contains(msg, "API password has a space at the end") {
		t.Fatalf("warning says %q", msg)
	}
	lead := practice.Form{ODS: "A81001", Username: " Herouser ", Password: sandbox.DemoAPIPassword}
	res, _ = b.service.Connect(ctx, support, practice.ConnectRequest{Form: lead})
	if len(res.SpaceWarnings) != 1 || res.SpaceWarnings[0].Field != "username" || !strings.Contains(res.SpaceWarnings[0].Message(), "at the start and at the end") {
		t.Fatalf("username warnings = %+v", res.SpaceWarnings)
	}
	res, err = b.service.Connect(ctx, support, practice.ConnectRequest{Form: form, Spaces: practice.SpacesRemove})
	if err != nil || !res.Saved || res.Form.ODS != "A81001" {
		t.Fatalf("testing without the spaces: %+v, %v", res, err)
	}
}

func TestLiveConnectionStopsTheFormAndOldCredentialsStayUntilNewOnesAreProven(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	first := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	if !first.Saved {
		t.Fatalf("first connection: %+v", first.Test)
	}
	again := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	if again.Existing == nil || again.Existing.ConnectedBy != support.Name || again.Existing.Username != "Herouser" || again.Test != nil {
		t.Fatalf("second attempt: %+v", again)
	}
	if time.Since(again.Existing.ConnectedAt) > time.Minute {
		t.Fatalf("connected at %v", again.Existing.ConnectedAt)
	}

	// A replacement that fails leaves the old connection in force.
	res, err := b.service.Connect(ctx, practice.Actor{Name: "manager@riverside"}, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: "WrongPassword1"}})
	if err != nil || res.Saved || res.Test == nil {
		t.Fatalf("failed replacement: %+v, %v", res, err)
	}
	conn, err := b.store.ActiveConnection(ctx, first.PracticeID)
	if err != nil || conn.ConnectedBy != support.Name {
		t.Fatalf("after a failed replacement the connection in force is %+v, %v", conn, err)
	}
	if _, err := b.service.CheckHealth(ctx, first.PracticeID); err != nil {
		t.Fatal(err)
	}
	if p, _ := b.store.PracticeByID(ctx, first.PracticeID); p.HealthStatus != store.HealthConnected {
		t.Fatalf("the old credentials stopped working: %+v", p)
	}

	// A proven replacement swaps it, and the replaced password is erased.
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "NewerApi2027"))
	res, err = b.service.Connect(ctx, practice.Actor{Name: "manager@riverside"}, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: "NewerApi2027"}})
	if err != nil || !res.Saved {
		t.Fatalf("replacement: %+v, %v", res, err)
	}
	conn, _ = b.store.ActiveConnection(ctx, first.PracticeID)
	if conn.ConnectedBy != "manager@riverside" {
		t.Fatalf("connection in force = %+v", conn)
	}
	audit, _ := b.store.ListAudit(ctx, first.PracticeID, 10)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "connection.replaced,connection.test_failed,connection.created" {
		t.Fatalf("audit trail = %v", actions)
	}
}

func TestPracticeUserCanOnlyConnectTheirOwnPractice(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	first := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	other := practice.Actor{Name: "someone@elsewhere", PracticeID: first.PracticeID + 100}
	_, err := b.service.Connect(ctx, other, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	if !errors.Is(err, practice.ErrNotYourPractice) {
		t.Fatalf("another practice's user: %v", err)
	}
}

func TestHealthCheckFollowsEMISAndNeverRetriesARefusedPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	res := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	id := res.PracticeID

	// EMIS slow and failing: degraded, checked again sooner.
	must(t, b.world.SetFaults(sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: 1}}))
	u, err := b.service.CheckHealth(ctx, id)
	if err != nil || u.Status != store.HealthDegraded || u.ConsecutiveFailures != 1 || time.Until(u.NextCheck) > 90*time.Second {
		t.Fatalf("EMIS erroring: %+v, %v", u, err)
	}
	must(t, b.world.SetFaults(sandbox.Faults{}))

	// Login Access unticked: failing, but checked again (the practice may fix EMAS Manager).
	must(t, b.demo.SetLoginAccess(sandbox.HeroProductKey, "Herouser", true, false))
	u, _ = b.service.CheckHealth(ctx, id)
	if u.Status != store.HealthFailing || u.CredentialsRejected || u.NextCheck.IsZero() || !strings.Contains(u.Reason, "EMAS Manager") {
		t.Fatalf("no access: %+v", u)
	}
	must(t, b.demo.SetLoginAccess(sandbox.HeroProductKey, "Herouser", true, true))
	if u, _ = b.service.CheckHealth(ctx, id); u.Status != store.HealthConnected {
		t.Fatalf("after fixing Login Access: %+v", u)
	}

	// The API password changed in EMAS Manager: failing, and never tried again automatically.
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "ChangedApi2027"))
	u, _ = b.service.CheckHealth(ctx, id)
	if u.Status != store.HealthFailing || !u.CredentialsRejected || !u.NextCheck.IsZero() || !strings.Contains(u.Reason, "will not retry") {
		t.Fatalf("password changed: %+v", u)
	}
	b.store.SetClock(func() time.Time { return time.Now().Add(24 * time.Hour) })
	due, _ := b.store.DuePractices(ctx, 10)
	if len(due) != 0 {
		t.Fatalf("a practice whose password EMIS refused is still due a check: %+v", due)
	}
	b.store.SetClock(time.Now)

	history, _ := b.store.HealthHistory(ctx, id, 10)
	var statuses []string
	for _, h := range history {
		statuses = append(statuses, h.Status)
	}
	if strings.Join(statuses, ",") != "failing,connected,failing,degraded,connected" {
		t.Fatalf("health history = %v", statuses)
	}
}

func TestAPIPasswordNeverReachesTheDatabaseFileLogsOrAuditTrail(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	// Failures, a space warning, a connection, a replacement and health checks: every path
	// that handles the password.
	b.connect(t, "Herouser", "Wrong"+sandbox.DemoAPIPassword)
	_, _ = b.service.Connect(ctx, support, practice.ConnectRequest{Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword + " "}})
	res := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	_, _ = b.service.Connect(ctx, support, practice.ConnectRequest{Replace: true, Spaces: practice.SpacesKeep,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	_, _ = b.service.CheckHealth(ctx, res.PracticeID)

	secrets := []string{sandbox.DemoAPIPassword, sandbox.DemoUserPassword}
	var disk []byte
	if b.store.Dialect() == store.SQLite { // on PostgreSQL the files are the server's
		disk = readAll(t, b.dbPath, b.dbPath+"-wal", b.dbPath+"-shm")
		if len(disk) == 0 {
			t.Fatal("no database bytes read")
		}
	}
	audit, _ := b.store.ListAudit(ctx, 0, 100)
	var auditText strings.Builder
	for _, a := range audit {
		auditText.WriteString(a.Actor + a.Action + a.Detail)
	}
	for _, s := range secrets {
		if bytes.Contains(disk, []byte(s)) {
			t.Errorf("the database file holds %q in clear", s)
		}
		if strings.Contains(b.logs.String(), s) {
			t.Errorf("the logs hold %q", s)
		}
		if strings.Contains(auditText.String(), s) {
			t.Errorf("the audit trail holds %q", s)
		}
	}
	if !strings.Contains(b.logs.String(), "practice connected") {
		t.Fatal("the log capture saw nothing; the scan proves nothing")
	}
}

func TestFormNeverPrintsItsPassword(t *testing.T) {
	t.Parallel()
	f := practice.Form{ODS: "A81001", Username: "Herouser", Password: "Secret2026api"}
	var logs bytes.Buffer
	slogger := slogText(&logs)
	slogger.Info("form", "form", f)
	for _, s := range []string{fmt.Sprintf("%v %+v %s %#v", f, f, f, f), logs.String(),
		fmt.Sprintf("%+v", practice.ConnectResult{Form: f})} {
		if strings.Contains(s, f.Password) {
			t.Fatalf("the password leaked into %q", s)
		}
	}
}

func TestAPasswordPastedIntoTheUsernameFieldIsNeverEchoed(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	res := b.connect(t, sandbox.DemoAPIPassword, sandbox.DemoAPIPassword)
	for _, c := range res.Test.Checks {
		if strings.Contains(c.Message, sandbox.DemoAPIPassword) {
			t.Fatalf("the diagnosis echoes the username field: %q", c.Message)
		}
	}
	audit, _ := b.store.ListAudit(context.Background(), 0, 10)
	for _, a := range audit {
		if strings.Contains(a.Detail, sandbox.DemoAPIPassword) {
			t.Fatalf("the audit trail echoes the username field: %q", a.Detail)
		}
	}
}

func TestRefusedCredentialsAreNotRetriedEvenWhenAskedDirectly(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	res := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "ChangedApi2027"))
	if _, err := b.service.CheckHealth(ctx, res.PracticeID); err != nil {
		t.Fatal(err)
	}
	before, _ := b.world.Stats(sandbox.DemoCDB)
	if _, err := b.service.CheckHealth(ctx, res.PracticeID); !errors.Is(err, practice.ErrCredentialsRejected) {
		t.Fatalf("second check: %v, want ErrCredentialsRejected", err)
	}
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if after.Calls["Logon"] != before.Calls["Logon"] {
		t.Fatal("a refused password was sent to EMIS again")
	}
}

func TestAConnectionMadeWhileNewCredentialsAreTestedIsNotReplacedUnseen(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	first := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	conn, _ := b.store.ActiveConnection(ctx, first.PracticeID)
	// Someone else's submission saw no connection (Replaces 0) and finishes after ours.
	_, err := b.store.ActivateConnection(ctx, store.NewConnection{PracticeID: first.PracticeID, Username: "Herouser",
		PasswordSealed: []byte("x"), KeyID: "k", ConnectedBy: "late", Checklist: "[]"}, store.AuditEntry{Actor: "late", Action: "connection.created"})
	if !errors.Is(err, store.ErrConnectionChanged) {
		t.Fatalf("stale activation: %v, want ErrConnectionChanged", err)
	}
	if now, _ := b.store.ActiveConnection(ctx, first.PracticeID); now.ID != conn.ID {
		t.Fatalf("the live connection was replaced unseen: %+v", now)
	}
}

func slogText(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func TestAHealthCheckOfReplacedCredentialsDoesNotJudgeTheNewOnes(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	first := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	old, _ := b.store.ActiveConnection(ctx, first.PracticeID)
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "NewerApi2027"))
	_, err := b.service.Connect(ctx, support, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: "NewerApi2027"}})
	must(t, err)
	// A check that started with the old password finishes now, refused.
	must(t, b.store.RecordHealth(ctx, store.HealthUpdate{PracticeID: first.PracticeID, ConnectionID: old.ID,
		Status: store.HealthFailing, Reason: "old password refused", CredentialsRejected: true}))
	p, _ := b.store.PracticeByID(ctx, first.PracticeID)
	if p.CredentialsRejected || p.HealthStatus != store.HealthConnected {
		t.Fatalf("a stale check locked out the new credentials: %+v", p)
	}
}

func TestAConfirmationReplacesOnlyTheConnectionThePersonWasShown(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	shown := b.connect(t, "Herouser", sandbox.DemoAPIPassword) // stops: already connected
	if shown.Existing == nil || shown.Existing.ConnectionID == 0 {
		t.Fatalf("no live connection shown: %+v", shown)
	}
	// Meanwhile someone else replaces it.
	_, err := b.service.Connect(ctx, practice.Actor{Name: "colleague"}, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	must(t, err)
	// The first person's confirmation must not silently replace the colleague's connection.
	res, err := b.service.Connect(ctx, support, practice.ConnectRequest{Replace: true, Replaces: shown.Existing.ConnectionID,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	if err != nil || res.Saved || res.Existing == nil || res.Existing.ConnectedBy != "colleague" {
		t.Fatalf("stale confirmation: %+v, %v", res, err)
	}
}

func TestTheCachedEMISConnectionFollowsReplacementsAndRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	first := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	conn, err := b.service.Conn(ctx, first.PracticeID)
	must(t, err)
	if _, err := conn.GetCurrentUser(ctx); err != nil {
		t.Fatal(err)
	}
	// New credentials replace the old: the next Conn uses them (the old session died with
	// the password change in EMAS Manager).
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "NewerApi2027"))
	_, err = b.service.Connect(ctx, support, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: "NewerApi2027"}})
	must(t, err)
	conn, err = b.service.Conn(ctx, first.PracticeID)
	must(t, err)
	if _, err := conn.GetCurrentUser(ctx); err != nil {
		t.Fatalf("the cache kept the replaced connection: %v", err)
	}
	// The password changes again in EMIS; a health check finds it refused: Conn refuses
	// without calling EMIS.
	must(t, b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "ThirdApi2028"))
	if _, err := b.service.CheckHealth(ctx, first.PracticeID); err != nil {
		t.Fatal(err)
	}
	before, _ := b.world.Stats(sandbox.DemoCDB)
	if _, err := b.service.Conn(ctx, first.PracticeID); !errors.Is(err, practice.ErrCredentialsRejected) {
		t.Fatalf("after a refusal: %v", err)
	}
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if after.Total != before.Total {
		t.Fatalf("Conn called EMIS %d times after the refusal", after.Total-before.Total)
	}
}
