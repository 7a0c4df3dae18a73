package practice

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/mapping"
	"herolink/internal/store"
)

// checkSlotTypes compares the slot types EMIS just listed with herolink's copy. When they
// differ, the copy is replaced (as Refresh from EMIS does, with an audit entry saying what
// changed), so readiness, the diary copy and the write-back all see the change. When the slot
// type for unregistered patients is deleted or not bookable, the connection is failing with
// the fix in the guide's words; a rename only adds a warning: herolink follows the slot type by
// its EMIS id.
func (s *Service) checkSlotTypes(ctx context.Context, p store.Practice, cfg *emis.AppointmentConfiguration, u *store.HealthUpdate) error {
	if cfg == nil {
		return nil
	}
	stored, err := s.Store.EMISSlotTypes(ctx, p.ID)
	if err != nil {
		return err
	}
	// Before staff first read the configuration (mapping page) there is nothing to compare.
	if len(stored) == 0 {
		return nil
	}
	if changes := slotTypeChanges(stored, cfg.SlotTypes); len(changes) > 0 {
		detail := "the health check found slot types changed in EMIS: " + strings.Join(changes, "; ")
		if _, err := s.Store.SaveEMISConfiguration(ctx, p.ID, mapping.FromEMIS(cfg),
			store.AuditEntry{Actor: "herolink", Action: "mapping.changed_in_emis", Detail: detail}); err != nil {
			return err
		}
		s.log().Warn("EMIS slot types changed", "ods", p.ODS, "changes", strings.Join(changes, "; "))
		if stored, err = s.Store.EMISSlotTypes(ctx, p.ID); err != nil {
			return err
		}
	}
	why, blocking, ok := mapping.UnregisteredCondition(stored)
	if blocking && why.Code == mapping.CodeUnregisteredDeleted {
		followed, err := s.followReplacement(ctx, p, stored)
		if err != nil {
			return err
		}
		if followed != "" {
			u.Reason += ". " + followed
			return nil
		}
	}
	switch {
	case !ok || why.Code == "":
	case blocking:
		u.Status, u.Reason = store.HealthFailing, why.Message+" "+why.Fix
	default:
		u.Reason += ". Note: " + why.Message + " " + why.Fix
	}
	return nil
}

// followReplacement handles the practice following the guide again after deleting the slot
// type for unregistered patients: when EMIS now lists exactly one bookable slot type with the
// guide's name that staff have not given another feature, it takes over Unregistered Patient
// Booking (audited), and the bookings waiting for a placeholder are written. Anything less
// certain is left to staff on the mapping page.
func (s *Service) followReplacement(ctx context.Context, p store.Practice, types []store.EMISSlotType) (string, error) {
	var old, repl *store.EMISSlotType
	n := 0
	for i, t := range types {
		switch {
		case t.Feature == store.FeatureUnregistered && t.Gone:
			old = &types[i]
		case !t.Gone && t.EMISBookable && t.Feature == store.FeatureUnset && emis.IsUnregisteredSlotTypeName(t.Name):
			repl = &types[i]
			n++
		}
	}
	if old == nil || repl == nil || n != 1 {
		return "", nil
	}
	maps := &mapping.Service{Store: s.Store, Log: s.Log}
	if _, err := maps.SetFeature(ctx, "herolink", p.ID, old.EMISID, store.FeatureNotBookable); err != nil {
		return "", fmt.Errorf("practice: retire the deleted unregistered slot type of %s: %w", p.ODS, err)
	}
	if _, err := maps.SetFeature(ctx, "herolink", p.ID, repl.EMISID, store.FeatureUnregistered); err != nil {
		return "", fmt.Errorf("practice: adopt the new unregistered slot type of %s: %w", p.ODS, err)
	}
	s.log().Info("unregistered slot type replaced in EMIS: followed", "ods", p.ODS, "old", old.EMISID, "new", repl.EMISID)
	return fmt.Sprintf("The slot type %q for unregistered patients was deleted in EMIS and a new %q added: herolink now uses the new one (EMIS id %d)",
		old.Name, repl.Name, repl.EMISID), nil
}

// slotTypeChanges says, in words, how EMIS's slot types differ from herolink's copy.
func slotTypeChanges(stored []store.EMISSlotType, fresh []emis.SlotType) []string {
	known := map[int]store.EMISSlotType{}
	for _, t := range stored {
		if !t.Gone {
			known[t.EMISID] = t
		}
	}
	var out []string
	for _, f := range fresh {
		name := strings.TrimSpace(f.Description)
		t, ok := known[f.TypeID]
		delete(known, f.TypeID)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("slot type %q (id %d) added", name, f.TypeID))
			continue
		case t.Name != name:
			out = append(out, fmt.Sprintf("slot type %d renamed from %q to %q", f.TypeID, t.Name, name))
		}
		if t.EMISBookable != f.Bookable {
			out = append(out, fmt.Sprintf("slot type %q made %s", name, map[bool]string{true: "bookable", false: "not bookable"}[f.Bookable]))
		}
		if t.Colour != f.Colour {
			out = append(out, fmt.Sprintf("slot type %q recoloured", name))
		}
	}
	for _, t := range stored {
		if _, ok := known[t.EMISID]; ok {
			out = append(out, fmt.Sprintf("slot type %q (id %d) deleted", t.Name, t.EMISID))
		}
	}
	return out
}

// currentUser reads the logged-on user for its contract dates; a failure here is not the
// connection's: the check goes on without them.
func (s *Service) currentUser(ctx context.Context, session *emis.Conn) *emis.CurrentUser {
	me, err := session.GetCurrentUser(ctx)
	if err != nil {
		s.log().Info("health check: could not read the EMIS user", "err", err)
		return nil
	}
	return me
}

// checkContract adds the contract warning to a healthy connection's reason.
func (s *Service) checkContract(me *emis.CurrentUser, u *store.HealthUpdate) {
	if w := ContractWarning(me, emis.Today(s.now())); w != "" && u.Status == store.HealthConnected {
		u.Reason += ". " + w
	}
}

// ContractWarning warns, with the date and the days left, when the EMIS user has a contract
// end date: on the day after it EMIS refuses the logon (outcome 2) and bookings stop. Empty
// when no end date is set, as the guide asks.
func ContractWarning(me *emis.CurrentUser, today emis.Date) string {
	if me == nil || strings.TrimSpace(me.ContractEnd) == "" {
		return ""
	}
	end, err := emis.ParseDate(strings.TrimSpace(me.ContractEnd))
	if err != nil {
		return fmt.Sprintf("Warning: EMIS gives the user a contract end date herolink cannot read (%q). %s", me.ContractEnd, fixContractEnd)
	}
	left := end.DaysSince(today)
	when := fmt.Sprintf("%d days left", left)
	switch left {
	case 0:
		when = "today is its last day"
	case 1:
		when = "1 day left"
	}
	return fmt.Sprintf("Warning: the EMIS user %s has a contract end date of %s (%s). After that date EMIS refuses herolink's logon and bookings stop reaching EMIS. %s",
		me.Username, end, when, fixContractEnd)
}

// fixAdminRBAC is the guide, under Activate Application: "If you can't access EMAS Manager,
// confirm that your admin account has RBAC activity". It is the account of the person doing the
// setup, not Herouser's; DOMAIN.md names the activity.
const fixAdminRBAC = "If you can't access EMAS Manager, confirm that your own admin account (the one you are signed in to EMIS Web with, not Herouser) has the RBAC activity B0062 Local System Administration, which is needed to open EMAS Manager. It can be added to your role profile, or ask your system administrator for help."

const fixContractEnd = "In EMIS Web go to EMIS ball → Configuration → Organisation Configuration → Users, open the user, and on the Role tab clear the Contract end date (the guide says: do not set one)."

var isoDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// expiredDiagnosis explains Logon outcome 2 in the guide's words, from EMIS's error text
// when it says which cause applies.
func expiredDiagnosis(h string) string {
	open := "In EMIS Web go to EMIS ball → Configuration → Organisation Configuration → Users and open the user. "
	on := ""
	if d := isoDate.FindString(h); d != "" {
		on = " on " + d
	}
	switch {
	case strings.Contains(h, "contract ended"):
		return "The user's contract has ended" + on + ". " + open + "On the Role tab clear the Contract end date (the guide says not to set one)."
	case strings.Contains(h, "contract starts"):
		return "The user's contract has not started yet. " + open + "On the Role tab set the Contract start date to today's date."
	case strings.Contains(h, "must change password"):
		return "The user is set to change password on next sign in. " + open + "Untick \"User must change password on next sign in\"."
	}
	return "EMIS says the user account has expired. " + open + "Check: the Contract start date is today or earlier, no Contract end date is set, and \"User must change password on next sign in\" is unticked."
}

// expiredReason is the health reason for Logon outcome 2.
func expiredReason(h string) string {
	return "EMIS refuses herolink's logon: the user account has expired (outcome 2). " + expiredDiagnosis(h)
}

// noteConnectWarning puts a warning the connection test found (the contract end date) into the
// new connection's health reason, so the practice page shows it from the start.
func (s *Service) noteConnectWarning(ctx context.Context, practiceID, connID int64, by, username string, c Checklist) {
	w := c.Get(StepAccount).Message
	if w == "" {
		return
	}
	u := store.HealthUpdate{PracticeID: practiceID, ConnectionID: connID, Status: store.HealthConnected,
		Reason: "connected by " + by + " as EMIS user " + username + ". " + w, NextCheck: s.nextCheck(0)}
	if err := s.Store.RecordHealth(ctx, u); err != nil {
		s.log().Error("record the connection test's warning", "practice", practiceID, "err", err)
	}
}
