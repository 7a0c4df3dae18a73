package practice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"herolink/internal/store"
	"herolink/internal/vault"
)

// PasswordPurpose binds sealed EMIS API passwords to their column.
const PasswordPurpose = "emis_connections.password_sealed"

// Service connects practices and keeps their connection healthy.
type Service struct {
	Store          *store.Store
	Vault          *vault.Keyring
	Tester         *Tester
	Log            *slog.Logger
	HealthInterval time.Duration // default 5 minutes
	Now            func() time.Time
	// OnConnected hears a practice whose credentials were just put in force (the sync starts).
	OnConnected func(ctx context.Context, practiceID int64)

	conns conns
}

// Actor is who acts: a staff user's name, and the practice they are limited to (0: support).
type Actor struct {
	Name       string
	PracticeID int64
}

// ConnectRequest is a submitted connection form.
type ConnectRequest struct {
	Form    Form
	Spaces  SpaceHandling
	Replace bool // the person confirmed replacing a live connection
	// Replaces is the id of the live connection the person was shown (Existing.ConnectionID);
	// if another replaced it meanwhile, the form stops again and shows the new one.
	Replaces int64
}

// Existing describes a live connection that stops the form.
type Existing struct {
	ConnectionID int64
	PracticeName string
	Username     string
	ConnectedBy  string
	ConnectedAt  time.Time
}

// ConnectResult says what happened to a submitted form. Exactly one of FieldErrors,
// SpaceWarnings, Existing, or Test is the reason it stopped; Saved says the credentials are now
// in force.
type ConnectResult struct {
	Form          Form // normalised; never shown back with its password
	FieldErrors   []FieldError
	SpaceWarnings []SpaceWarning
	Existing      *Existing
	Test          *TestResult
	Saved         bool
	PracticeID    int64
}

// ConnectionTestTimeout bounds a whole connection test (directory, logon, probes).
const ConnectionTestTimeout = 45 * time.Second

// ErrNotYourPractice means a practice user tried to connect another practice.
var ErrNotYourPractice = errors.New("practice: you can only connect your own practice")

// Connect validates the form, stops at a live connection unless replacing it was confirmed,
// runs the connection test, and stores the credentials (sealed) only when they are proven.
// Replaced credentials stay in force until the new ones are proven.
func (s *Service) Connect(ctx context.Context, who Actor, req ConnectRequest) (ConnectResult, error) {
	form, errs, warns := req.Form.Validate(req.Spaces)
	res := ConnectResult{Form: form}
	if len(errs) > 0 {
		res.FieldErrors = errs
		return res, nil
	}
	if len(warns) > 0 {
		res.SpaceWarnings = warns
		return res, nil
	}
	var seen int64 // the active connection this submission saw, which it may replace
	existing, err := s.Store.PracticeByODS(ctx, form.ODS)
	switch {
	case err == nil:
		res.PracticeID = existing.ID
		if who.PracticeID != 0 && who.PracticeID != existing.ID {
			return res, ErrNotYourPractice
		}
		conn, err := s.Store.ActiveConnection(ctx, existing.ID)
		switch {
		case err == nil && (!req.Replace || req.Replaces != 0 && req.Replaces != conn.ID):
			res.Existing = &Existing{ConnectionID: conn.ID, PracticeName: existing.Name, Username: conn.Username, ConnectedBy: conn.ConnectedBy, ConnectedAt: conn.ConnectedAt}
			return res, nil
		case err == nil:
			seen = conn.ID
		case !errors.Is(err, store.ErrNotFound):
			return res, err
		}
	case errors.Is(err, store.ErrNotFound):
		if who.PracticeID != 0 {
			return res, ErrNotYourPractice
		}
	default:
		return res, err
	}

	// One deadline for the whole test, inside the HTTP server's write timeout, and not cut
	// short if the browser goes away: the outcome is recorded either way.
	testCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ConnectionTestTimeout)
	test := s.Tester.Test(testCtx, form)
	cancel()
	res.Test = &test
	if !test.Connected {
		// Unproven usernames stay out of the audit trail: one may be a password in the wrong field.
		detail := fmt.Sprintf("ODS %s: %s", form.ODS, failureSummary(test.Checks))
		if res.PracticeID != 0 {
			detail += "; the connection in force is unchanged"
		}
		if err := s.Store.AppendAudit(ctx, store.AuditEntry{Actor: who.Name, Action: "connection.test_failed", PracticeID: res.PracticeID, Detail: detail}); err != nil {
			return res, err
		}
		s.log().Info("connection test failed", "ods", form.ODS, "actor", who.Name, "step", test.Checks.FirstFailure().Step)
		return res, nil
	}

	p, err := s.Store.EnsurePractice(ctx, form.ODS, test.CDB, test.PracticeName)
	if err != nil {
		return res, err
	}
	res.PracticeID = p.ID
	keyID, sealed, err := s.Vault.Seal([]byte(form.Password), PasswordPurpose)
	if err != nil {
		return res, err
	}
	checklist, _ := json.Marshal(test.Checks)
	action := "connection.created"
	if req.Replace {
		action = "connection.replaced"
	}
	conn, err := s.Store.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: form.Username, PasswordSealed: sealed,
		KeyID: keyID, ConnectedBy: who.Name, Checklist: string(checklist), NextCheck: s.nextCheck(0), Replaces: seen},
		store.AuditEntry{Actor: who.Name, Action: action, Detail: fmt.Sprintf("ODS %s, EMIS user %s; checklist %s", form.ODS, form.Username, passSummary(test.Checks))})
	if errors.Is(err, store.ErrConnectionChanged) {
		// Someone connected this practice while the test ran: show them, as if just submitted.
		res.Test = nil
		if conn, cerr := s.Store.ActiveConnection(ctx, p.ID); cerr == nil {
			res.Existing = &Existing{ConnectionID: conn.ID, PracticeName: p.Name, Username: conn.Username, ConnectedBy: conn.ConnectedBy, ConnectedAt: conn.ConnectedAt}
			return res, nil
		}
		return res, err
	}
	if err != nil {
		return res, err
	}
	res.Saved = true
	s.noteConnectWarning(ctx, p.ID, conn.ID, who.Name, form.Username, test.Checks)
	s.forget(p.ID)
	if s.OnConnected != nil {
		s.OnConnected(ctx, p.ID)
	}
	s.log().Info("practice connected", "ods", form.ODS, "actor", who.Name, "replaced", req.Replace)
	return res, nil
}

func failureSummary(c Checklist) string {
	f := c.FirstFailure()
	if f.Step == "" {
		return "not connected"
	}
	return "failed at " + string(f.Step)
}

func passSummary(c Checklist) string {
	n := 0
	for _, ch := range c {
		if ch.Status == Pass {
			n++
		}
	}
	return fmt.Sprintf("%d/%d passed", n, len(c))
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// nextCheck is when the next health check is due: the interval with ±20% jitter so that
// thousands of practices do not check at once; after failures, sooner (1, 2, 4... minutes)
// but never later than the interval.
func (s *Service) nextCheck(failures int) time.Time {
	interval := s.HealthInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	if failures > 0 {
		backoff := time.Minute << min(failures-1, 10)
		interval = min(interval, backoff)
	}
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(interval))
	return s.now().Add(interval + jitter)
}
