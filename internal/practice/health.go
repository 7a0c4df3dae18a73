package practice

import (
	"context"
	"errors"
	"fmt"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// ErrCredentialsRejected means EMIS refused the stored password: nothing retries it; the
// practice must enter the current API password on the connection form.
// It wraps emis.ErrLogonUnsuccessful, so packages below practice can recognise it.
var ErrCredentialsRejected = fmt.Errorf("practice: EMIS refused the stored API password; waiting for new credentials: %w", emis.ErrLogonUnsuccessful)

// CheckHealth re-runs logon and a cheap read for a practice's connection in force and records
// the outcome. Credentials EMIS refuses (Logon outcome 3) are not tried again automatically:
// a real EMIS may lock the user. The practice then waits for new credentials on the form.
func (s *Service) CheckHealth(ctx context.Context, practiceID int64) (store.HealthUpdate, error) {
	p, err := s.Store.PracticeByID(ctx, practiceID)
	if err != nil {
		return store.HealthUpdate{}, err
	}
	if p.CredentialsRejected {
		return store.HealthUpdate{PracticeID: p.ID, Status: p.HealthStatus, Reason: p.HealthReason, CredentialsRejected: true}, ErrCredentialsRejected
	}
	conn, err := s.Store.ActiveConnection(ctx, practiceID)
	if errors.Is(err, store.ErrNotFound) {
		u := store.HealthUpdate{PracticeID: practiceID, Status: store.HealthNotConnected, Reason: "no EMIS credentials have been proven yet"}
		return u, s.Store.RecordHealth(ctx, u)
	}
	if err != nil {
		return store.HealthUpdate{}, err
	}
	password, err := s.Vault.Open(conn.KeyID, conn.PasswordSealed, PasswordPurpose)
	if err != nil {
		u := store.HealthUpdate{PracticeID: practiceID, ConnectionID: conn.ID, Status: store.HealthFailing,
			Reason:    "herolink cannot open the stored API password (its key is not loaded): a herolink support engineer must look at the key file.",
			NextCheck: s.nextCheck(0)}
		_ = s.Store.RecordHealth(ctx, u)
		return u, fmt.Errorf("practice: open the API password of practice %s: %w", p.ODS, err)
	}
	u := store.HealthUpdate{PracticeID: practiceID, ConnectionID: conn.ID}
	session, err := s.Tester.Caller.Connect(ctx, emis.Credentials{CDB: p.CDB, Username: conn.Username, APIPassword: string(password)})
	var cfg *emis.AppointmentConfiguration
	var me *emis.CurrentUser
	if err == nil {
		cfg, err = session.GetAppointmentConfiguration(ctx)
		if err == nil {
			me = s.currentUser(ctx, session)
		}
		_ = session.Logout(ctx)
	}
	classifyHealth(&u, err)
	if err == nil {
		// The practice keeps working in EMIS: a slot type or the user's contract changed since
		// the last check is noticed here, within one health interval.
		if err := s.checkSlotTypes(ctx, p, cfg, &u); err != nil {
			// herolink's own failure: the logon's outcome is still recorded below.
			s.log().Error("health check: compare the slot types", "ods", p.ODS, "err", err)
		}
		s.checkContract(me, &u)
	}
	if u.Status == store.HealthDegraded {
		u.ConsecutiveFailures = p.ConsecutiveFailures + 1
	}
	if !u.CredentialsRejected {
		u.NextCheck = s.nextCheck(u.ConsecutiveFailures)
	}
	if err := s.Store.RecordHealth(ctx, u); err != nil {
		return u, err
	}
	if u.CredentialsRejected {
		s.forget(practiceID)
	}
	if u.Status != p.HealthStatus {
		s.log().Info("practice connection health changed", "ods", p.ODS, "from", p.HealthStatus, "to", u.Status)
	}
	return u, nil
}

// classifyHealth turns a check's error into a status and a reason a support engineer and a
// practice manager can act on.
func classifyHealth(u *store.HealthUpdate, err error) {
	switch {
	case err == nil:
		u.Status, u.Reason = store.HealthConnected, "logon and appointment configuration read succeeded"
	case errors.Is(err, emis.ErrLogonUnsuccessful):
		u.Status, u.CredentialsRejected = store.HealthFailing, true
		u.Reason = "EMIS no longer accepts the API password (it may have been changed in EMAS Manager → Edit Users). Enter the current API password on the connection form; herolink will not retry the old one."
	case errors.Is(err, emis.ErrNoProductAccess):
		u.Status = store.HealthFailing
		u.Reason = "EMIS says the user has no access to Hero Health: check EMAS Manager (Hero Health activated, the user ticked in Edit Users, Auto Login and Allow Login ticked)."
	case errors.Is(err, emis.ErrLogonExpired):
		u.Status = store.HealthFailing
		u.Reason = expiredReason(hint(err))
	case errors.Is(err, emis.ErrAccessDenied):
		u.Status = store.HealthFailing
		u.Reason = "EMIS denies access to the appointment book: the user's RBAC role must be Practice Manager SJR004."
	case errors.Is(err, emis.ErrOrgNotFound), errors.Is(err, emis.ErrUnmatchedSupplier):
		u.Status = store.HealthFailing
		u.Reason = "EMIS no longer recognises the practice or Hero Health's partner id: a herolink support engineer must look."
	default:
		u.Status = store.HealthDegraded
		u.Reason = "EMIS could not be reached or failed (" + describeTransport(err) + "); herolink keeps trying."
	}
}
