package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func TestConformanceEMISConfiguration(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		at, err := st.EMISConfigurationReadAt(ctx, pid)
		must(t, err)
		if !at.Equal(epoch) {
			t.Fatalf("configuration read at %v, want %v", at, epoch)
		}
		if at, _ := st.EMISConfigurationReadAt(ctx, 424242); !at.IsZero() {
			t.Fatalf("an unknown practice's configuration was read at %v", at)
		}
		sites, err := st.EMISSites(ctx, pid)
		must(t, err)
		if len(sites) != 2 || sites[0].EMISID != 502 || sites[1].EMISID != 501 || sites[1].Postcode != "AB1 2CD" || sites[1].Gone {
			t.Fatalf("sites by name: %+v", sites)
		}
		site, err := st.EMISSite(ctx, pid, 501)
		must(t, err)
		if site.Name != "Main Surgery" || !site.ReadAt.Equal(epoch) {
			t.Fatalf("site 501: %+v", site)
		}
		if _, err := st.EMISSite(ctx, pid, 999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown site: %v", err)
		}
		holders, err := st.EMISHolders(ctx, pid)
		must(t, err)
		if len(holders) != 2 || holders[0].EMISID != 601 || holders[1].EMISID != 602 {
			t.Fatalf("holders by surname: %+v", holders)
		}
		h, err := st.EMISHolder(ctx, pid, 601)
		must(t, err)
		if h.Title != "Dr" || h.FirstNames != "Sarah" || h.LastName != "Ahmed" || h.JobCategory != "GP" || h.DisplayName != "Dr Sarah Ahmed" || h.Gone {
			t.Fatalf("holder 601: %+v", h)
		}
		if _, err := st.EMISHolder(ctx, pid, 999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown holder: %v", err)
		}
		types, err := st.EMISSlotTypes(ctx, pid)
		must(t, err)
		if len(types) != 3 || types[0].Feature != store.FeatureBookable || types[1].Feature != store.FeatureUnregistered ||
			types[2].Feature != store.FeatureUnset || !types[0].EMISBookable || types[2].EMISBookable {
			t.Fatalf("slot types: %+v", types)
		}
		ty, err := st.EMISSlotType(ctx, pid, 3)
		must(t, err)
		if ty.Name != "Urgent" || ty.Gone {
			t.Fatalf("slot type 3: %+v", ty)
		}
		if _, err := st.EMISSlotType(ctx, pid, 99); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown slot type: %v", err)
		}
		set, err := st.SlotTypeFeaturesSet(ctx, pid)
		must(t, err)
		if !set {
			t.Fatal("features were given but SlotTypeFeaturesSet says not")
		}
		if set, _ := st.SlotTypeFeaturesSet(ctx, 424242); set {
			t.Fatal("an unknown practice has features")
		}
		active, err := st.ActiveSlotTypeIDs(ctx, pid)
		must(t, err)
		bookable, err := st.BookableSlotTypeIDs(ctx, pid)
		must(t, err)
		if len(active) != 2 || active[0] != 1 || active[1] != 2 || len(bookable) != 1 || bookable[0] != 1 {
			t.Fatalf("active %v, bookable %v", active, bookable)
		}
		unreg, err := st.UnregisteredSlotTypeID(ctx, pid)
		must(t, err)
		if unreg != 2 {
			t.Fatalf("unregistered slot type %d, want 2", unreg)
		}
		if id, _ := st.UnregisteredSlotTypeID(ctx, 424242); id != 0 {
			t.Fatalf("an unknown practice's unregistered type: %d", id)
		}
		// A second Unregistered type is refused, and changes nothing.
		if err := st.SetSlotTypeFeature(ctx, pid, 3, store.FeatureUnregistered, nil, auditOf("feature")); !errors.Is(err, store.ErrUnregisteredTaken) {
			t.Fatalf("a second unregistered type: %v, want ErrUnregisteredTaken", err)
		}
		if ty, _ := st.EMISSlotType(ctx, pid, 3); ty.Feature != store.FeatureUnset {
			t.Fatalf("a refused feature was kept: %+v", ty)
		}
		if err := st.SetSlotTypeFeature(ctx, pid, 99, store.FeatureBookable, nil, auditOf("feature")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("feature of an unknown slot type: %v, want ErrNotFound", err)
		}
		if err := st.SetSlotTypeFeature(ctx, pid, 3, "wibble", nil, auditOf("feature")); err == nil {
			t.Fatal("an unknown feature was stored")
		}

		// EMIS stops listing things: mapped ones are kept as gone, the rest deleted; they come back.
		c.advance(time.Hour)
		saved, err := st.SaveEMISConfiguration(ctx, pid, store.EMISConfiguration{
			Sites:     []store.EMISSite{{EMISID: 502, Name: "Branch"}},
			Holders:   []store.EMISHolder{{EMISID: 602, DisplayName: "Nurse Jo Bloggs"}},
			SlotTypes: []store.EMISSlotType{{EMISID: 2, Name: "Unregistered", EMISBookable: true}},
		}, auditOf("config"))
		must(t, err)
		if saved.Sites != 1 || saved.Holders != 1 || saved.SlotTypes != 1 || len(saved.Gone) != 3 || saved.Removed != 1 {
			t.Fatalf("saving a shorter configuration: %+v", saved)
		}
		if site, _ := st.EMISSite(ctx, pid, 501); !site.Gone {
			t.Fatalf("a mapped site EMIS no longer lists: %+v", site)
		}
		if h, _ := st.EMISHolder(ctx, pid, 601); !h.Gone {
			t.Fatalf("a mapped holder EMIS no longer lists: %+v", h)
		}
		if _, err := st.EMISSlotType(ctx, pid, 3); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unreviewed slot type EMIS no longer lists was kept: %v", err)
		}
		if b, _ := st.BookableSlotTypeIDs(ctx, pid); len(b) != 0 {
			t.Fatalf("a gone slot type is still bookable: %v", b)
		}
		types2, _ := st.AppointmentTypes(ctx, pid)
		if len(types2) != 1 || types2[0].Published {
			t.Fatalf("the appointment type of a gone slot type is still published: %+v", types2)
		}
		audits, err := st.ListAudit(ctx, pid, 1)
		must(t, err)
		if len(audits) != 1 || audits[0].Action != "config" {
			t.Fatalf("last audit line: %+v", audits)
		}
		_, err = st.SaveEMISConfiguration(ctx, pid, store.EMISConfiguration{
			Sites:     []store.EMISSite{{EMISID: 501, Name: "Main Surgery"}},
			SlotTypes: []store.EMISSlotType{{EMISID: 1, Name: "Routine", EMISBookable: true}},
		}, auditOf("config"))
		must(t, err)
		if site, _ := st.EMISSite(ctx, pid, 501); site.Gone {
			t.Fatalf("a site listed again is still gone: %+v", site)
		}
		if ty, _ := st.EMISSlotType(ctx, pid, 1); ty.Gone || ty.Feature != store.FeatureBookable {
			t.Fatalf("a slot type listed again lost its feature: %+v", ty)
		}
	})
}

func TestConformancePractitionersAndLocations(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		if f.clinic.ID == 0 || f.clinic.EMISHolderID != 601 || !f.clinic.CreatedAt.Equal(epoch) {
			t.Fatalf("created practitioner: %+v", f.clinic)
		}
		got, err := st.Practitioner(ctx, pid, f.clinic.ID)
		must(t, err)
		if got != f.clinic {
			t.Fatalf("practitioner reads back as %+v, want %+v", got, f.clinic)
		}
		byHolder, err := st.PractitionerByHolder(ctx, pid, 601)
		must(t, err)
		if byHolder.ID != f.clinic.ID {
			t.Fatalf("by holder: %+v", byHolder)
		}
		if _, err := st.PractitionerByHolder(ctx, pid, 602); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unmapped holder: %v", err)
		}
		if _, err := st.Practitioner(ctx, pid, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown practitioner: %v", err)
		}
		other := newPractice(t, st, "B82002")
		if _, err := st.Practitioner(ctx, other.ID, f.clinic.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another practice's practitioner: %v", err)
		}
		platform, err := st.CreatePractitioner(ctx, store.Practitioner{PracticeID: pid, Name: "alex (locum)"}, auditOf("practitioner"))
		must(t, err)
		list, err := st.Practitioners(ctx, pid)
		must(t, err)
		if len(list) != 2 || list[0].ID != platform.ID || list[0].EMISHolderID != 0 || list[1].ID != f.clinic.ID {
			t.Fatalf("practitioners by name: %+v", list)
		}
		if _, err := st.CreatePractitioner(ctx, store.Practitioner{PracticeID: pid, Name: "X", EMISHolderID: 999}, auditOf("p")); !errors.Is(err, store.ErrNotInEMIS) {
			t.Fatalf("a holder EMIS never listed: %v, want ErrNotInEMIS", err)
		}
		platform.Name, platform.EMISHolderID = "Nurse Bloggs", 602
		upd, err := st.UpdatePractitioner(ctx, platform, auditOf("p"))
		must(t, err)
		if upd.Name != "Nurse Bloggs" || upd.EMISHolderID != 602 {
			t.Fatalf("updated practitioner: %+v", upd)
		}
		if _, err := st.UpdatePractitioner(ctx, store.Practitioner{PracticeID: pid, ID: 424242, Name: "x"}, auditOf("p")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating an unknown practitioner: %v", err)
		}
		must(t, st.DeletePractitioner(ctx, pid, platform.ID, auditOf("p")))
		if err := st.DeletePractitioner(ctx, pid, platform.ID, auditOf("p")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}

		// Locations.
		loc, err := st.Location(ctx, pid, f.location.ID)
		must(t, err)
		if loc != f.location || loc.EMISSiteID != 501 {
			t.Fatalf("location reads back as %+v, want %+v", loc, f.location)
		}
		bySite, err := st.LocationBySite(ctx, pid, 501)
		must(t, err)
		if bySite.ID != loc.ID {
			t.Fatalf("by site: %+v", bySite)
		}
		if _, err := st.LocationBySite(ctx, pid, 502); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an unmapped site: %v", err)
		}
		if _, err := st.Location(ctx, pid, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown location: %v", err)
		}
		if _, err := st.CreateLocation(ctx, store.Location{PracticeID: pid, Name: "X", EMISSiteID: 999}, auditOf("l")); !errors.Is(err, store.ErrNotInEMIS) {
			t.Fatalf("a site EMIS never listed: %v, want ErrNotInEMIS", err)
		}
		branch, err := st.CreateLocation(ctx, store.Location{PracticeID: pid, Name: "annexe"}, auditOf("l"))
		must(t, err)
		locs, err := st.Locations(ctx, pid)
		must(t, err)
		if len(locs) != 2 || locs[0].ID != branch.ID || locs[1].ID != loc.ID {
			t.Fatalf("locations by name: %+v", locs)
		}
		branch.Name, branch.EMISSiteID = "Branch", 502
		upl, err := st.UpdateLocation(ctx, branch, auditOf("l"))
		must(t, err)
		if upl.Name != "Branch" || upl.EMISSiteID != 502 {
			t.Fatalf("updated location: %+v", upl)
		}
		if _, err := st.UpdateLocation(ctx, store.Location{PracticeID: pid, ID: 424242, Name: "x"}, auditOf("l")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating an unknown location: %v", err)
		}
		must(t, st.DeleteLocation(ctx, pid, branch.ID, auditOf("l")))
		if err := st.DeleteLocation(ctx, pid, branch.ID, auditOf("l")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}

// The mapping is 1:1: a session holder or site is mapped to at most one practitioner or location
// (the partial unique indexes), and a practitioner or location has one column for its EMIS id.
func TestASessionHolderOrSiteMapsToAtMostOneRecord(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		if _, err := st.CreatePractitioner(ctx, store.Practitioner{PracticeID: pid, Name: "Dr Ahmed again", EMISHolderID: 601}, auditOf("p")); !errors.Is(err, store.ErrHolderTaken) {
			t.Fatalf("a second practitioner on holder 601: %v, want ErrHolderTaken", err)
		}
		other, err := st.CreatePractitioner(ctx, store.Practitioner{PracticeID: pid, Name: "Nurse"}, auditOf("p"))
		must(t, err)
		other.EMISHolderID = 601
		if _, err := st.UpdatePractitioner(ctx, other, auditOf("p")); !errors.Is(err, store.ErrHolderTaken) {
			t.Fatalf("moving another practitioner onto holder 601: %v, want ErrHolderTaken", err)
		}
		if _, err := st.CreateLocation(ctx, store.Location{PracticeID: pid, Name: "Main again", EMISSiteID: 501}, auditOf("l")); !errors.Is(err, store.ErrSiteTaken) {
			t.Fatalf("a second location on site 501: %v, want ErrSiteTaken", err)
		}
		annexe, err := st.CreateLocation(ctx, store.Location{PracticeID: pid, Name: "Annexe"}, auditOf("l"))
		must(t, err)
		annexe.EMISSiteID = 501
		if _, err := st.UpdateLocation(ctx, annexe, auditOf("l")); !errors.Is(err, store.ErrSiteTaken) {
			t.Fatalf("moving another location onto site 501: %v, want ErrSiteTaken", err)
		}
		// Nothing was changed by the refusals.
		ps, _ := st.Practitioners(ctx, pid)
		ls, _ := st.Locations(ctx, pid)
		mapped := 0
		for _, p := range ps {
			if p.EMISHolderID == 601 {
				mapped++
			}
		}
		for _, l := range ls {
			if l.EMISSiteID == 501 {
				mapped++
			}
		}
		if mapped != 2 {
			t.Fatalf("after the refusals, holder 601 and site 501 are mapped %d times, want once each", mapped)
		}
		// Importing maps what is unmapped, once.
		res, err := st.ImportFromEMIS(ctx, pid, auditOf("import"))
		must(t, err)
		if res.PractitionersCreated != 1 || res.PractitionersLinked != 0 || res.LocationsCreated != 1 || res.LocationsLinked != 0 || !res.Changed() {
			t.Fatalf("import: %+v, want holder 602 and site 502 given a record each", res)
		}
		res, err = st.ImportFromEMIS(ctx, pid, auditOf("import"))
		must(t, err)
		if res.Changed() {
			t.Fatalf("a second import changed something: %+v", res)
		}
	})
}

func TestConformanceAppointmentTypes(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		a := f.apptType
		if a.EMISSlotTypeID != 1 || a.Name != "Routine appointment" || a.DurationMinutes != 10 || a.Channel != store.ChannelInPerson || !a.Published {
			t.Fatalf("published appointment type: %+v", a)
		}
		got, err := st.AppointmentType(ctx, a.PracticeID, a.ID)
		must(t, err)
		if got != a {
			t.Fatalf("reads back as %+v, want %+v", got, a)
		}
		if _, err := st.AppointmentType(ctx, a.PracticeID, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown appointment type: %v", err)
		}
		c.advance(time.Minute)
		a.Name, a.DurationMinutes, a.Channel = "Phone call", 15, store.ChannelTelephone
		upd, err := st.UpdateAppointmentType(ctx, a, auditOf("type"))
		must(t, err)
		if upd.Name != "Phone call" || upd.DurationMinutes != 15 || upd.Channel != store.ChannelTelephone || !upd.UpdatedAt.Equal(c.t) {
			t.Fatalf("updated: %+v", upd)
		}
		bad := upd
		bad.DurationMinutes = 500
		if _, err := st.UpdateAppointmentType(ctx, bad, auditOf("type")); err == nil {
			t.Fatal("a 500-minute appointment type was stored")
		}
		bad = upd
		bad.ID = 424242
		if _, err := st.UpdateAppointmentType(ctx, bad, auditOf("type")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("updating an unknown type: %v", err)
		}
		// Making the type not bookable hides it; making it bookable again keeps staff's wording.
		must(t, st.SetSlotTypeFeature(ctx, a.PracticeID, 1, store.FeatureNotBookable, nil, auditOf("feature")))
		if got, _ := st.AppointmentType(ctx, a.PracticeID, a.ID); got.Published {
			t.Fatalf("a not-bookable slot type's appointment type is published: %+v", got)
		}
		must(t, st.SetSlotTypeFeature(ctx, a.PracticeID, 1, store.FeatureBookable, &store.AppointmentType{Name: "Default", DurationMinutes: 10, Channel: store.ChannelInPerson}, auditOf("feature")))
		if got, _ := st.AppointmentType(ctx, a.PracticeID, a.ID); !got.Published || got.Name != "Phone call" {
			t.Fatalf("republished: %+v", got)
		}
	})
}
