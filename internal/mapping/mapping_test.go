package mapping_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

func TestRefreshReadsSitesHoldersAndSlotTypesFromEMIS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	saved, err := b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if saved.Sites != 2 || saved.Holders != 8 || saved.SlotTypes != 6 {
		t.Fatalf("refresh read %+v, want 2 sites, 8 holders, 6 slot types", saved)
	}
	su, err := b.svc.Setup(ctx, b.practiceID)
	must(t, err)
	if su.ConfigReadAt.IsZero() || len(su.Holders) != 8 || len(su.Sites) != 2 || len(su.SlotTypes) != 6 {
		t.Fatalf("setup after refresh: read at %v, %d holders, %d sites, %d slot types", su.ConfigReadAt, len(su.Holders), len(su.Sites), len(su.SlotTypes))
	}
	h := b.holder(t, 0)
	found := false
	for _, hv := range su.Holders {
		found = found || hv.EMISID == h.ID && hv.DisplayName == h.DisplayName() && hv.Practitioner == nil
	}
	if !found {
		t.Fatalf("holder %d %q not read as EMIS shows it: %+v", h.ID, h.DisplayName(), su.Holders)
	}
	for _, st := range su.SlotTypes {
		if st.Feature != store.FeatureUnset {
			t.Fatalf("slot type %d starts as %q, want unset", st.EMISID, st.Feature)
		}
	}
	if ids, _ := b.svc.ActiveSlotTypeIDs(ctx, b.practiceID); len(ids) != 0 {
		t.Fatalf("active slot types before any feature: %v", ids)
	}
	if a := b.lastAudit(t); a.Action != "mapping.refreshed" || a.Actor != who || !strings.Contains(a.Detail, "8 session holders") {
		t.Fatalf("audit: %+v", a)
	}
	if b.changes.count() != 1 {
		t.Fatalf("OnChange heard %d changes, want 1", b.changes.count())
	}
}

func TestRefreshWithoutAConnectionSaysConnectFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, err := b.store.EnsurePractice(context.Background(), "B82099", 99, "Unconnected Surgery")
	must(t, err)
	_, err = b.svc.RefreshFromEMIS(context.Background(), who, p.ID)
	mustRefuse(t, err, mapping.ErrConflict, "", "no EMIS connection yet", "connection form")
	_, err = b.svc.ImportFromEMIS(context.Background(), who, p.ID)
	mustRefuse(t, err, mapping.ErrConflict, "", "no EMIS connection yet")
}

func TestImportCreatesOnePractitionerPerHolderAndOneLocationPerSiteAndIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// A practitioner typed in by hand with a holder's name is mapped, not duplicated.
	first := b.holder(t, 0)
	typed, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: strings.ToUpper(first.DisplayName())})
	must(t, err)

	imp, err := b.svc.ImportFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if imp.PractitionersCreated != 7 || imp.PractitionersLinked != 1 || imp.LocationsCreated != 2 || imp.LocationsLinked != 0 {
		t.Fatalf("first import: %+v", imp.ImportResult)
	}
	prs, err := b.svc.Practitioners(ctx, b.practiceID)
	must(t, err)
	if len(prs) != 8 {
		t.Fatalf("%d practitioners after import, want 8", len(prs))
	}
	byHolder := map[int64]mapping.PractitionerView{}
	for _, p := range prs {
		if p.Holder == nil {
			t.Fatalf("practitioner %q is not mapped after import", p.Name)
		}
		byHolder[p.EMISHolderID] = p
	}
	for _, h := range b.demo.ListHolders() {
		p, ok := byHolder[h.ID]
		if !ok {
			t.Fatalf("no practitioner for holder %d %q", h.ID, h.DisplayName())
		}
		if p.ID != typed.ID && p.Name != h.DisplayName() {
			t.Fatalf("practitioner for %q is called %q", h.DisplayName(), p.Name)
		}
	}
	if byHolder[first.ID].ID != typed.ID {
		t.Fatalf("the typed practitioner was not mapped to %q", first.DisplayName())
	}
	if !strings.HasPrefix(byHolder[b.holder(t, 1).ID].Name, "Dr ") {
		t.Fatalf("GPs are named as EMIS shows them (\"Dr Sarah Ahmed\"): %q", byHolder[b.holder(t, 1).ID].Name)
	}
	locs, err := b.svc.Locations(ctx, b.practiceID)
	must(t, err)
	if len(locs) != 2 || locs[0].Site == nil || locs[1].Site == nil {
		t.Fatalf("locations after import: %+v", locs)
	}
	if a := b.lastAudit(t); a.Action != "mapping.imported" || !strings.Contains(a.Detail, "7 created, 1 mapped by name") {
		t.Fatalf("audit: %+v", a)
	}

	again, err := b.svc.ImportFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if again.Changed() {
		t.Fatalf("second import changed something: %+v", again.ImportResult)
	}
	prs, _ = b.svc.Practitioners(ctx, b.practiceID)
	locs, _ = b.svc.Locations(ctx, b.practiceID)
	if len(prs) != 8 || len(locs) != 2 {
		t.Fatalf("after a second import: %d practitioners, %d locations", len(prs), len(locs))
	}
	if n := strings.Count(strings.Join(b.auditActions(t), " "), "mapping.imported"); n != 1 {
		t.Fatalf("%d import audit lines, want 1 (the second import changed nothing)", n)
	}
}

func TestAPractitionerCannotTakeASessionHolderMappedToAnotherAndTheMessageNamesBoth(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	h1, h2 := b.holder(t, 0), b.holder(t, 1)
	ahmed, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Sarah Ahmed", EMISHolderID: h1.ID})
	must(t, err)
	if ahmed.Holder == nil || ahmed.Holder.EMISID != h1.ID {
		t.Fatalf("created: %+v", ahmed)
	}

	// A new practitioner for a holder already mapped: refused, naming both practitioners.
	_, err = b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr S Ahmed", EMISHolderID: h1.ID})
	mustRefuse(t, err, mapping.ErrConflict, "emis_holder_id", "Dr S Ahmed", "Dr Sarah Ahmed", h1.DisplayName()+" (EMIS)", "Unmap it")
	prs, _ := b.svc.Practitioners(ctx, b.practiceID)
	if len(prs) != 1 {
		t.Fatalf("the refused practitioner was created: %+v", prs)
	}

	// An existing practitioner mapped to it: refused the same way, and left as it was.
	locum, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Locum"})
	must(t, err)
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, locum.ID, mapping.PractitionerPatch{Name: ptr("Dr Locum Two"), EMISHolderID: ptr(h1.ID)})
	mustRefuse(t, err, mapping.ErrConflict, "emis_holder_id", "Dr Locum Two", "Dr Sarah Ahmed")
	if p, _ := b.store.Practitioner(ctx, b.practiceID, locum.ID); p.Name != "Dr Locum" || p.EMISHolderID != 0 {
		t.Fatalf("the refused change was saved: %+v", p)
	}

	// The other direction: a practitioner has one holder; mapping it to another frees the first.
	moved, err := b.svc.UpdatePractitioner(ctx, who, b.practiceID, ahmed.ID, mapping.PractitionerPatch{EMISHolderID: ptr(h2.ID)})
	must(t, err)
	if moved.EMISHolderID != h2.ID {
		t.Fatalf("remapped: %+v", moved)
	}
	if a := b.lastAudit(t); a.Action != "mapping.practitioner_mapped" || a.Actor != who || !strings.Contains(a.Detail, "was session holder "+h1.DisplayName()) {
		t.Fatalf("audit: %+v", a)
	}
	if _, err := b.svc.UpdatePractitioner(ctx, who, b.practiceID, locum.ID, mapping.PractitionerPatch{EMISHolderID: ptr(h1.ID)}); err != nil {
		t.Fatalf("the freed holder cannot be mapped: %v", err)
	}
	// Mapping a practitioner to the holder it already has is no conflict.
	if _, err := b.svc.UpdatePractitioner(ctx, who, b.practiceID, locum.ID, mapping.PractitionerPatch{EMISHolderID: ptr(h1.ID)}); err != nil {
		t.Fatalf("re-saving the same mapping: %v", err)
	}

	// Unmapped means platform-only; deleting frees the holder.
	un, err := b.svc.UpdatePractitioner(ctx, who, b.practiceID, locum.ID, mapping.PractitionerPatch{EMISHolderID: ptr(int64(0))})
	must(t, err)
	if un.EMISHolderID != 0 || un.Holder != nil || b.lastAudit(t).Action != "mapping.practitioner_unmapped" {
		t.Fatalf("unmapped: %+v, audit %+v", un, b.lastAudit(t))
	}
	must(t, b.svc.DeletePractitioner(ctx, who, b.practiceID, ahmed.ID))
	if _, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr New", EMISHolderID: h2.ID}); err != nil {
		t.Fatalf("the deleted practitioner's holder is not free: %v", err)
	}
	want := []string{"mapping.refreshed", "mapping.practitioner_created", "mapping.practitioner_created", "mapping.practitioner_mapped",
		"mapping.practitioner_mapped", "mapping.practitioner_unmapped", "mapping.practitioner_deleted", "mapping.practitioner_created"}
	if got := b.auditActions(t); !slices.Equal(got[len(got)-len(want):], want) {
		t.Fatalf("audit trail %v, want it to end with %v", got, want)
	}
}

func TestALocationCannotTakeASiteMappedToAnotherAndTheMessageNamesBoth(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	mainSite, branch := b.site(t, 0), b.site(t, 1)
	surgery, err := b.svc.CreateLocation(ctx, who, b.practiceID, mapping.LocationInput{Name: "The Surgery", EMISSiteID: mainSite.ID})
	must(t, err)
	_, err = b.svc.CreateLocation(ctx, who, b.practiceID, mapping.LocationInput{Name: "High Street", EMISSiteID: mainSite.ID})
	mustRefuse(t, err, mapping.ErrConflict, "emis_site_id", "High Street", "The Surgery", mainSite.Name+" (EMIS)", "Unmap it")

	annexe, err := b.svc.CreateLocation(ctx, who, b.practiceID, mapping.LocationInput{Name: "Annexe"})
	must(t, err)
	if annexe.Site != nil {
		t.Fatalf("a location without a site is platform-only: %+v", annexe)
	}
	_, err = b.svc.UpdateLocation(ctx, who, b.practiceID, annexe.ID, mapping.LocationPatch{EMISSiteID: ptr(mainSite.ID)})
	mustRefuse(t, err, mapping.ErrConflict, "emis_site_id", "Annexe", "The Surgery")

	// The other direction: moving The Surgery to the branch site frees the main one.
	_, err = b.svc.UpdateLocation(ctx, who, b.practiceID, surgery.ID, mapping.LocationPatch{EMISSiteID: ptr(branch.ID)})
	must(t, err)
	if a := b.lastAudit(t); a.Action != "mapping.location_mapped" || !strings.Contains(a.Detail, "was site "+mainSite.Name) {
		t.Fatalf("audit: %+v", a)
	}
	if _, err := b.svc.UpdateLocation(ctx, who, b.practiceID, annexe.ID, mapping.LocationPatch{EMISSiteID: ptr(mainSite.ID)}); err != nil {
		t.Fatalf("the freed site cannot be mapped: %v", err)
	}
	locs, _ := b.svc.Locations(ctx, b.practiceID)
	if len(locs) != 2 {
		t.Fatalf("locations: %+v", locs)
	}
}

func TestMappingToAnEMISIDHerolinkHasNotReadIsRefused(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	_, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Nobody", EMISHolderID: 99999})
	mustRefuse(t, err, mapping.ErrInvalid, "emis_holder_id", "no session holder 99999", "Refresh from EMIS")
	_, err = b.svc.CreateLocation(ctx, who, b.practiceID, mapping.LocationInput{Name: "Nowhere", EMISSiteID: 99999})
	mustRefuse(t, err, mapping.ErrInvalid, "emis_site_id", "no site 99999")
	// A holder added in EMIS since the last refresh is unknown until refreshed.
	h, err := b.demo.AddHolder(sandboxHolder("Dr", "Nia", "Okafor"))
	must(t, err)
	_, err = b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Nia Okafor", EMISHolderID: h.ID})
	mustRefuse(t, err, mapping.ErrInvalid, "emis_holder_id", "Refresh from EMIS")
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if _, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Nia Okafor", EMISHolderID: h.ID}); err != nil {
		t.Fatal(err)
	}
}

func TestNamesAreCheckedAndBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	before := len(b.auditActions(t))
	_, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "   "})
	mustRefuse(t, err, mapping.ErrInvalid, "name", "Enter a name")
	_, err = b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: strings.Repeat("x", 101)})
	mustRefuse(t, err, mapping.ErrInvalid, "name", "100 characters or fewer")
	_, err = b.svc.CreateLocation(ctx, who, b.practiceID, mapping.LocationInput{Name: "Bad\x00name"})
	mustRefuse(t, err, mapping.ErrInvalid, "name", "printable")
	p, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "  Dr   Ada  Lovelace "})
	must(t, err)
	if p.Name != "Dr Ada Lovelace" {
		t.Fatalf("name saved as %q", p.Name)
	}
	// A bad name with a good holder: neither is saved.
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, p.ID, mapping.PractitionerPatch{Name: ptr(""), EMISHolderID: ptr(b.holder(t, 0).ID)})
	mustRefuse(t, err, mapping.ErrInvalid, "name")
	if got, _ := b.store.Practitioner(ctx, b.practiceID, p.ID); got.Name != "Dr Ada Lovelace" || got.EMISHolderID != 0 {
		t.Fatalf("a refused change was saved: %+v", got)
	}
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, p.ID+100, mapping.PractitionerPatch{Name: ptr("X")})
	mustRefuse(t, err, mapping.ErrNotFound, "")
	mustRefuse(t, b.svc.DeleteLocation(ctx, who, b.practiceID, 12345), mapping.ErrNotFound, "")
	// Saving without a change writes nothing.
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, p.ID, mapping.PractitionerPatch{Name: ptr("Dr Ada Lovelace")})
	must(t, err)
	if after := len(b.auditActions(t)); after != before+1 {
		t.Fatalf("%d audit lines written, want 1 (the creation)", after-before)
	}
}

func TestTheDatabaseRefusesDuplicateMappingsWithoutTheService(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	h, site := b.holder(t, 0), b.site(t, 0)
	audit := store.AuditEntry{Actor: who, Action: "test"}
	a, err := b.store.CreatePractitioner(ctx, store.Practitioner{PracticeID: b.practiceID, Name: "A", EMISHolderID: h.ID}, audit)
	must(t, err)
	if _, err := b.store.CreatePractitioner(ctx, store.Practitioner{PracticeID: b.practiceID, Name: "B", EMISHolderID: h.ID}, audit); !errors.Is(err, store.ErrHolderTaken) {
		t.Fatalf("second practitioner on one holder: %v, want ErrHolderTaken", err)
	}
	c, err := b.store.CreatePractitioner(ctx, store.Practitioner{PracticeID: b.practiceID, Name: "C"}, audit)
	must(t, err)
	c.EMISHolderID = h.ID
	if _, err := b.store.UpdatePractitioner(ctx, c, audit); !errors.Is(err, store.ErrHolderTaken) {
		t.Fatalf("update onto a taken holder: %v, want ErrHolderTaken", err)
	}
	if _, err := b.store.DBQ().ExecContext(ctx, `INSERT INTO practitioners (practice_id, name, emis_holder_id, created_at) VALUES (?, 'raw', ?, 0)`,
		b.practiceID, h.ID); !store.IsUniqueViolation(err) {
		t.Fatalf("raw SQL duplicate: %v, want a UNIQUE constraint failure", err)
	}
	if _, err := b.store.CreatePractitioner(ctx, store.Practitioner{PracticeID: b.practiceID, Name: "D", EMISHolderID: 424242}, audit); !errors.Is(err, store.ErrNotInEMIS) {
		t.Fatalf("unknown holder: %v, want ErrNotInEMIS", err)
	}
	// Many platform-only practitioners are fine.
	for range 2 {
		if _, err := b.store.CreatePractitioner(ctx, store.Practitioner{PracticeID: b.practiceID, Name: "Platform only"}, audit); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := b.store.CreateLocation(ctx, store.Location{PracticeID: b.practiceID, Name: "L1", EMISSiteID: site.ID}, audit); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.CreateLocation(ctx, store.Location{PracticeID: b.practiceID, Name: "L2", EMISSiteID: site.ID}, audit); !errors.Is(err, store.ErrSiteTaken) {
		t.Fatalf("second location on one site: %v, want ErrSiteTaken", err)
	}
	if _, err := b.store.DBQ().ExecContext(ctx, `INSERT INTO locations (practice_id, name, emis_site_id, created_at) VALUES (?, 'raw', ?, 0)`,
		b.practiceID, site.ID); !store.IsUniqueViolation(err) {
		t.Fatalf("raw SQL duplicate location: %v", err)
	}

	must(t, b.store.SetSlotTypeFeature(ctx, b.practiceID, 6, store.FeatureUnregistered, nil, audit))
	if err := b.store.SetSlotTypeFeature(ctx, b.practiceID, 1, store.FeatureUnregistered, nil, audit); !errors.Is(err, store.ErrUnregisteredTaken) {
		t.Fatalf("second unregistered type: %v, want ErrUnregisteredTaken", err)
	}
	if _, err := b.store.DBQ().ExecContext(ctx, `UPDATE emis_slot_types SET feature = 'unregistered' WHERE practice_id = ? AND emis_id = 2`, b.practiceID); err == nil {
		t.Fatal("raw SQL made a second unregistered type")
	}
	// The service explains what the database refused.
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, c.ID, mapping.PractitionerPatch{EMISHolderID: ptr(h.ID)})
	mustRefuse(t, err, mapping.ErrConflict, "emis_holder_id", "C cannot be mapped", a.Name+" is already mapped")
	if p, _ := b.store.Practitioner(ctx, b.practiceID, a.ID); p.EMISHolderID != h.ID {
		t.Fatalf("the first mapping changed: %+v", p)
	}
}

func TestASessionHolderGoneFromEMISIsKeptWhileMapped(t *testing.T) {
	t.Parallel()
	b := refreshed(t)
	ctx := context.Background()
	h, other := b.holder(t, 0), b.holder(t, 1)
	p, err := b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Mapped", EMISHolderID: h.ID})
	must(t, err)
	// EMIS stops listing two holders: the mapped one is kept as gone, the other is removed.
	cfg := b.configWithout(t, h.ID, other.ID, 0)
	saved, err := b.store.SaveEMISConfiguration(ctx, b.practiceID, cfg, store.AuditEntry{Actor: who, Action: "mapping.refreshed"})
	must(t, err)
	if saved.Removed != 1 || len(saved.Gone) != 1 || !strings.Contains(saved.Gone[0], h.DisplayName()) {
		t.Fatalf("saved: %+v", saved)
	}
	eh, err := b.store.EMISHolder(ctx, b.practiceID, h.ID)
	must(t, err)
	if !eh.Gone {
		t.Fatalf("the mapped holder is not gone: %+v", eh)
	}
	if _, err := b.store.EMISHolder(ctx, b.practiceID, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the unmapped holder was kept: %v", err)
	}
	r, err := b.svc.Readiness(ctx, b.practiceID)
	must(t, err)
	if item(t, r, mapping.ItemPractitioners).Done {
		t.Fatal("a practitioner mapped to a holder gone from EMIS counts as mapped")
	}
	// Nobody else may be mapped to a gone holder; the next refresh brings both back.
	_, err = b.svc.UpdatePractitioner(ctx, who, b.practiceID, p.ID, mapping.PractitionerPatch{EMISHolderID: ptr(int64(0))})
	must(t, err)
	_, err = b.svc.CreatePractitioner(ctx, who, b.practiceID, mapping.PractitionerInput{Name: "Dr Late", EMISHolderID: h.ID})
	mustRefuse(t, err, mapping.ErrInvalid, "emis_holder_id", "no longer a session holder in EMIS")
	_, err = b.svc.RefreshFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	if eh, _ := b.store.EMISHolder(ctx, b.practiceID, h.ID); eh.Gone {
		t.Fatal("a holder back in EMIS is still gone")
	}
}

// configWithout is herolink's copy of the demo practice's configuration without some holders
// and a slot type, as if EMIS had stopped listing them.
func (b *testBundle) configWithout(t *testing.T, holderA, holderB int64, slotType int) store.EMISConfiguration {
	t.Helper()
	ctx := context.Background()
	var cfg store.EMISConfiguration
	hs, err := b.store.EMISHolders(ctx, b.practiceID)
	must(t, err)
	for _, h := range hs {
		if h.EMISID != holderA && h.EMISID != holderB {
			cfg.Holders = append(cfg.Holders, h)
		}
	}
	cfg.Sites, err = b.store.EMISSites(ctx, b.practiceID)
	must(t, err)
	ts, err := b.store.EMISSlotTypes(ctx, b.practiceID)
	must(t, err)
	for _, st := range ts {
		if st.EMISID != slotType {
			cfg.SlotTypes = append(cfg.SlotTypes, st)
		}
	}
	return cfg
}
