package mapping_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/store"
)

const heroType = 6 // the demo practice's "Hero unregistered patient"

func TestTheHeroSlotTypeIsProposedForUnregisteredPatients(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Typed by hand in EMIS with other capitals and spacing: still found.
	_, err := b.demo.EditSlotType(heroType, sandbox.SlotTypeInput{Name: ptr("HERO  unregistered-Patient")})
	must(t, err)
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	su, err := b.svc.Setup(ctx, b.practiceID)
	must(t, err)
	p := su.Proposed()
	if p == nil || p.EMISID != heroType || p.Feature != store.FeatureUnset {
		t.Fatalf("proposed: %+v", p)
	}
	for _, st := range su.SlotTypes {
		if st.Proposed != (st.EMISID == heroType) {
			t.Fatalf("slot type %d proposed = %v", st.EMISID, st.Proposed)
		}
	}
	if it := item(t, su.Readiness, mapping.ItemUnregistered); it.Done || !strings.Contains(it.ToDo, `"HERO  unregistered-Patient" to Unregistered Patient Booking (proposed)`) {
		t.Fatalf("readiness: %+v", it)
	}
	// Accepted: no proposal any more.
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, heroType, store.FeatureUnregistered)
	must(t, err)
	su, _ = b.svc.Setup(ctx, b.practiceID)
	if su.Proposed() != nil || !item(t, su.Readiness, mapping.ItemUnregistered).Done {
		t.Fatalf("after accepting: proposed %+v, readiness %+v", su.Proposed(), item(t, su.Readiness, mapping.ItemUnregistered))
	}
}

func TestWithoutTheHeroSlotTypeNothingIsProposedAndReadinessSaysCreateIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.demo.EditSlotType(heroType, sandbox.SlotTypeInput{Name: ptr("Extended hours")})
	must(t, err)
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	su, err := b.svc.Setup(ctx, b.practiceID)
	must(t, err)
	if su.Proposed() != nil {
		t.Fatalf("proposed %+v", su.Proposed())
	}
	if it := item(t, su.Readiness, mapping.ItemUnregistered); !strings.Contains(it.ToDo, `Create the slot type "Hero unregistered patient" in EMIS`) {
		t.Fatalf("readiness: %+v", it)
	}
}

func TestExactlyOneSlotTypeIsForUnregisteredPatients(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	_, err := b.svc.SetFeature(ctx, who, b.practiceID, heroType, store.FeatureUnregistered)
	must(t, err)
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureUnregistered)
	mustRefuse(t, err, mapping.ErrConflict, "feature", `"Hero unregistered patient" already has Unregistered Patient Booking`, `choose "Routine GP appointment"`)
	if st, _ := b.store.EMISSlotType(ctx, b.practiceID, 1); st.Feature != store.FeatureUnset {
		t.Fatalf("the refused type changed: %+v", st)
	}
	// Give it up first, then another type may take it.
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, heroType, store.FeatureNotBookable)
	must(t, err)
	v, err := b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureUnregistered)
	must(t, err)
	if v.Feature != store.FeatureUnregistered || v.AppointmentTypeID != 0 {
		t.Fatalf("slot type 1: %+v (the Unregistered type is never published)", v)
	}
	if ids, _ := b.svc.BookableSlotTypeIDs(ctx, b.practiceID); len(ids) != 0 {
		t.Fatalf("bookable: %v; the Unregistered type is never offered", ids)
	}
	if ids, _ := b.svc.ActiveSlotTypeIDs(ctx, b.practiceID); !slices.Equal(ids, []int{1}) {
		t.Fatalf("active: %v, want [1]", ids)
	}
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, 1, "offered")
	mustRefuse(t, err, mapping.ErrInvalid, "feature", "Choose Bookable, Not Bookable or Unregistered Patient Booking")
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, 77, store.FeatureBookable)
	mustRefuse(t, err, mapping.ErrNotFound, "")
}

func TestASlotTypeEMISMarksNotBookableCannotBecomeBookable(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	const admin = 5 // "Admin - not bookable"
	_, err := b.svc.SetFeature(ctx, who, b.practiceID, admin, store.FeatureBookable)
	mustRefuse(t, err, mapping.ErrInvalid, "feature", `EMIS marks the slot type "Admin - not bookable" as not bookable`, "Appts config")
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, admin, store.FeatureUnregistered)
	mustRefuse(t, err, mapping.ErrInvalid, "feature", "not bookable")
	if st, _ := b.store.EMISSlotType(ctx, b.practiceID, admin); st.Feature != store.FeatureUnset {
		t.Fatalf("feature saved: %+v", st)
	}
	if ats, _ := b.svc.AppointmentTypes(ctx, b.practiceID); len(ats) != 0 {
		t.Fatalf("an appointment type was published: %+v", ats)
	}
	if _, err := b.svc.SetFeature(ctx, who, b.practiceID, admin, store.FeatureNotBookable); err != nil {
		t.Fatal(err)
	}
	// Once EMIS marks it bookable and herolink has read that, it can be.
	_, err = b.demo.EditSlotType(admin, sandbox.SlotTypeInput{Bookable: ptr(true)})
	must(t, err)
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if _, err := b.svc.SetFeature(ctx, who, b.practiceID, admin, store.FeatureBookable); err != nil {
		t.Fatal(err)
	}
}

func TestABookableSlotTypeIsPublishedAsAnAppointmentTypeStaffCanRename(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	const phone = 3 // "Telephone consultation"
	v, err := b.svc.SetFeature(ctx, who, b.practiceID, phone, store.FeatureBookable)
	must(t, err)
	if v.AppointmentTypeID == 0 {
		t.Fatalf("no appointment type published: %+v", v)
	}
	if a := b.lastAudit(t); a.Action != "mapping.slot_type_feature_set" || !strings.Contains(a.Detail, "Not set → Bookable") {
		t.Fatalf("audit: %+v", a)
	}
	at, err := b.svc.AppointmentType(ctx, b.practiceID, v.AppointmentTypeID)
	must(t, err)
	if at.Name != "Telephone consultation" || at.DurationMinutes != mapping.DefaultDuration || at.Channel != store.ChannelTelephone || !at.Published {
		t.Fatalf("published: %+v", at)
	}
	if ids, _ := b.svc.BookableSlotTypeIDs(ctx, b.practiceID); !slices.Equal(ids, []int{phone}) {
		t.Fatalf("bookable: %v", ids)
	}

	// Bad input: refused field by field, nothing saved.
	bad := []struct {
		patch mapping.AppointmentTypePatch
		field string
		says  string
	}{
		{mapping.AppointmentTypePatch{Name: ptr("  ")}, "name", "Enter a name"},
		{mapping.AppointmentTypePatch{Name: ptr(strings.Repeat("é", 101))}, "name", "100 characters or fewer"},
		{mapping.AppointmentTypePatch{Name: ptr("Phone call"), DurationMinutes: ptr(4)}, "duration_minutes", "between 5 and 120 minutes"},
		{mapping.AppointmentTypePatch{DurationMinutes: ptr(121)}, "duration_minutes", "between 5 and 120 minutes"},
		{mapping.AppointmentTypePatch{Name: ptr("Phone call"), Channel: ptr("fax")}, "channel", "in person, telephone or video"},
	}
	for _, c := range bad {
		_, err := b.svc.UpdateAppointmentType(ctx, who, b.practiceID, at.ID, c.patch)
		mustRefuse(t, err, mapping.ErrInvalid, c.field, c.says)
	}
	if got, _ := b.svc.AppointmentType(ctx, b.practiceID, at.ID); got.Name != at.Name || got.DurationMinutes != at.DurationMinutes || got.Channel != at.Channel {
		t.Fatalf("a refused change was saved: %+v", got)
	}

	renamed, err := b.svc.UpdateAppointmentType(ctx, who, b.practiceID, at.ID, mapping.AppointmentTypePatch{
		Name: ptr("Phone call with a GP"), DurationMinutes: ptr(15), Channel: ptr(store.ChannelTelephone)})
	must(t, err)
	if renamed.Name != "Phone call with a GP" || renamed.DurationMinutes != 15 {
		t.Fatalf("renamed: %+v", renamed)
	}
	if a := b.lastAudit(t); a.Action != "mapping.appointment_type_updated" || !strings.Contains(a.Detail, `"Telephone consultation" → "Phone call with a GP"`) {
		t.Fatalf("audit: %+v", a)
	}

	// No longer Bookable: kept, hidden; Bookable again: the same one, staff's name kept.
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, phone, store.FeatureNotBookable)
	must(t, err)
	hidden, _ := b.svc.AppointmentType(ctx, b.practiceID, at.ID)
	if hidden.Published || hidden.Name != "Phone call with a GP" {
		t.Fatalf("after Not Bookable: %+v", hidden)
	}
	v, err = b.svc.SetFeature(ctx, who, b.practiceID, phone, store.FeatureBookable)
	must(t, err)
	again, _ := b.svc.AppointmentType(ctx, b.practiceID, v.AppointmentTypeID)
	if again.ID != at.ID || again.Name != "Phone call with a GP" || !again.Published {
		t.Fatalf("bookable again: %+v", again)
	}
	// EMIS stops marking it bookable: it is no longer offered though its feature stays.
	_, err = b.demo.EditSlotType(phone, sandbox.SlotTypeInput{Bookable: ptr(false)})
	must(t, err)
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if ids, _ := b.svc.BookableSlotTypeIDs(ctx, b.practiceID); len(ids) != 0 {
		t.Fatalf("offered though EMIS marks it not bookable: %v", ids)
	}
	if a, _ := b.svc.AppointmentType(ctx, b.practiceID, at.ID); a.Published {
		t.Fatalf("published though EMIS marks it not bookable: %+v", a)
	}
	_, err = b.svc.UpdateAppointmentType(ctx, who, b.practiceID, 9999, mapping.AppointmentTypePatch{Name: ptr("x")})
	mustRefuse(t, err, mapping.ErrNotFound, "")
}

func TestASlotTypeGoneFromEMISIsKeptWithItsFeatureAndNoLongerSynced(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	_, err := b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureBookable)
	must(t, err)
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, heroType, store.FeatureUnregistered)
	must(t, err)
	// EMIS stops listing type 1 (mapped) and type 2 (never given a feature).
	cfg := b.configWithout(t, 0, 0, 1)
	cfg.SlotTypes = slices.DeleteFunc(cfg.SlotTypes, func(st store.EMISSlotType) bool { return st.EMISID == 2 })
	saved, err := b.store.SaveEMISConfiguration(ctx, b.practiceID, cfg, store.AuditEntry{Actor: who, Action: "mapping.refreshed"})
	must(t, err)
	if saved.Removed != 1 || len(saved.Gone) != 1 || !strings.Contains(saved.Gone[0], `slot type "Routine GP appointment"`) {
		t.Fatalf("saved: %+v", saved)
	}
	st, err := b.store.EMISSlotType(ctx, b.practiceID, 1)
	must(t, err)
	if !st.Gone || st.Feature != store.FeatureBookable {
		t.Fatalf("type 1: %+v, want gone and still Bookable", st)
	}
	if _, err := b.store.EMISSlotType(ctx, b.practiceID, 2); err == nil {
		t.Fatal("type 2, without a feature, was kept")
	}
	if ids, _ := b.svc.ActiveSlotTypeIDs(ctx, b.practiceID); !slices.Equal(ids, []int{heroType}) {
		t.Fatalf("active: %v, want only the Unregistered type", ids)
	}
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureUnregistered)
	mustRefuse(t, err, mapping.ErrInvalid, "feature", "no longer lists")
	if _, err := b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureNotBookable); err != nil {
		t.Fatalf("a gone type cannot be set Not Bookable: %v", err)
	}
	// Back in EMIS (the next real refresh): no longer gone, feature kept.
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if st, _ := b.store.EMISSlotType(ctx, b.practiceID, 1); st.Gone || st.Feature != store.FeatureNotBookable {
		t.Fatalf("type 1 after refresh: %+v", st)
	}
	if st, _ := b.store.EMISSlotType(ctx, b.practiceID, 2); st.Feature != store.FeatureUnset {
		t.Fatalf("type 2 after refresh: %+v", st)
	}
}
