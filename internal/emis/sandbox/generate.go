package sandbox

import (
	"fmt"
	"math/rand/v2"
	"time"

	"herolink/internal/emis"
)

// Demo practice: the organisation a newcomer follows the setup guide against.
const (
	DemoODS          = "A81001"
	DemoCDB          = 29001
	DemoName         = "Riverside Medical Practice"
	DemoAPIPassword  = "Riverside2026api" // set by --preconfigured in Edit Users
	DemoUserPassword = "EmisUser!2026"    // Herouser's EMIS user password after --preconfigured
	demoSeed         = 20261124

	// The second demo practice, added by Options.SecondDemo and never preconfigured.
	SecondDemoODS  = "A81002"
	SecondDemoCDB  = 29002
	SecondDemoName = "Oakfield Surgery"
)

// GeneratedODS is the ODS code of the i-th generated practice (1-based): G00001, G00002, ...
func GeneratedODS(i int) string { return fmt.Sprintf("G%05d", i) }

// GeneratedCDB is the CDB number of the i-th generated practice.
func GeneratedCDB(i int) int { return 100000 + i }

// GeneratedAPIPassword is the API password of Herouser at the i-th generated practice. Generated
// practices come already set up for Hero Health so that benchmarks can connect thousands of them.
func GeneratedAPIPassword(i int) string { return fmt.Sprintf("Hero%05dApi", i) }

func rngFor(seed uint64, parts ...uint64) *rand.Rand {
	s := seedFor(seed, parts)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// seedFor is FNV-1a (64 bits) of seed and parts, each as 8 little-endian bytes, written out so
// that deriving a holder's day allocates nothing: session lists derive hundreds a call.
func seedFor(seed uint64, parts []uint64) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	mix := func(p uint64) {
		for i := range 8 {
			h ^= uint64(byte(p >> (8 * i)))
			h *= prime
		}
	}
	mix(seed)
	for _, p := range parts {
		mix(p)
	}
	return h
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// demoPractice is the untouched demo organisation: users, sites, holders and slot types, but
// nothing of the guide's steps done.
func demoPractice() *Org {
	o := generatedShape(demoSeed, 0, DemoODS, DemoCDB, DemoName, 6, 2, true)
	o.GenPatients = 320
	return o
}

// generatedPractice is the i-th synthetic practice, already set up for Hero Health.
func generatedPractice(seed uint64, i int) *Org {
	r := rngFor(seed, uint64(i), 1)
	name := fmt.Sprintf("%s %s", pick(r, placeNames), pick(r, practiceKinds))
	gps := 2 + r.IntN(7)
	nurses := 1 + r.IntN(3)
	o := generatedShape(seed, i, GeneratedODS(i), GeneratedCDB(i), name, gps, nurses, r.IntN(10) < 4)
	o.GenPatients = 300 + r.IntN(500)
	herouser := heroUser("Herouser", "GeneratedUser1!")
	herouser.DBID = 999
	o.Users = append(o.Users, herouser)
	p := o.productLocked(HeroProductKey)
	p.Activated = true
	p.CredSeq = 1
	p.Users["Herouser"] = &ProductUser{APIPassword: GeneratedAPIPassword(i), AutoLogin: true, AllowLogin: true, Generation: 1}
	o.SlotTypes = append(o.SlotTypes, &SlotType{ID: 6, Name: "Hero unregistered patient", Colour: "#ffeb3b", Bookable: true})
	return o
}

func generatedShape(seed uint64, genSerial int, ods string, cdb int, name string, gps, nurses int, branch bool) *Org {
	r := rngFor(seed, uint64(genSerial), 2)
	o := newOrg(ods, cdb, name)
	o.Generated, o.Seed, o.GenSerial = true, seed, genSerial
	o.SlotTypes = standardSlotTypes()
	o.Sites = []*Site{{ID: 101, Name: "Main Surgery", Postcode: randomPostcode(r)}}
	if branch {
		o.Sites = append(o.Sites, &Site{ID: 102, Name: "Branch Surgery", Postcode: randomPostcode(r)})
	}
	used := map[string]bool{}
	addHolder := func(title, job string, slotLen int) {
		var first, last string
		for {
			if r.IntN(2) == 0 {
				first = pick(r, femaleNames)
			} else {
				first = pick(r, maleNames)
			}
			last = pick(r, surnames)
			if !used[first+last] {
				break
			}
		}
		used[first+last] = true
		id := int64(201 + len(o.Holders))
		h := &Holder{ID: id, Title: title, FirstName: first, LastName: last, JobCategory: job,
			SlotLength: slotLen, DayOff: 1 + len(o.Holders)%5, SiteID: o.Sites[len(o.Holders)%len(o.Sites)].ID}
		o.Holders = append(o.Holders, h)
		o.Users = append(o.Users, &User{DBID: 2000 + id, Title: title, FirstName: first, LastName: last,
			Gender: "Not specified", Username: username(first, last), Password: "Clinician!2026", JobCategory: job,
			Relationship: "Partner", ContractStart: "2015-04-01", RBACRole: "GP Partner SJR001",
			AuthorisePrescriptions: "All", Mnemonic: string([]byte{first[0], last[0]}), SessionHolder: true})
	}
	for range gps {
		addHolder("Dr", "General Medical Practitioner", 10)
	}
	for range nurses {
		addHolder("", "Practice Nurse", 15)
	}
	pm := &User{DBID: 1001, Title: "Mrs", FirstName: pick(r, femaleNames), LastName: pick(r, surnames),
		Gender: "Female", Email: "practice.manager@" + lowerASCII(ods) + ".nhs.invalid", Password: "Manager!2026",
		JobCategory: "Manager", Relationship: "Employee", ContractStart: "2018-09-01",
		RBACRole: "Practice Manager SJR004", AuthorisePrescriptions: "None"}
	pm.Username = username(pm.FirstName, pm.LastName)
	pm.Mnemonic = string([]byte{pm.FirstName[0], pm.LastName[0]})
	o.Users = append(o.Users, pm)
	return o
}

// heroUser is the guide's Step 1 user.
func heroUser(name, password string) *User {
	return &User{Title: "Mr", FirstName: "Hero", LastName: "User", Gender: "Not specified",
		Email: "herouser@herohealth.invalid", Username: name, Password: password, MustChangePassword: false,
		JobCategory: "Manager", Mnemonic: "HH", AuthorisePrescriptions: "None", Relationship: "Associated",
		ContractStart: "2026-01-05", RBACRole: "Practice Manager SJR004"}
}

// Preconfigure performs the setup guide's steps in EMIS for a practice: Herouser with an EMIS
// user password, Hero Health activated, Edit Users with the API password, Login Access with both
// boxes, and the "Hero unregistered patient" slot type.
func (w *World) Preconfigure(cdb int, apiPassword string) error {
	o, err := w.Org(cdb)
	if err != nil {
		return err
	}
	u := heroUser("Herouser", DemoUserPassword)
	start := w.Today().String()
	if _, err := o.CreateUser(UserInput{Title: &u.Title, FirstName: &u.FirstName, LastName: &u.LastName,
		Gender: &u.Gender, Email: &u.Email, Username: &u.Username, Password: &u.Password,
		MustChangePassword: &u.MustChangePassword, JobCategory: &u.JobCategory, Mnemonic: &u.Mnemonic,
		AuthorisePrescriptions: &u.AuthorisePrescriptions, Relationship: &u.Relationship,
		ContractStart: &start, RBACRole: &u.RBACRole}); err != nil {
		return fmt.Errorf("create Herouser: %w", err)
	}
	if err := o.Activate(HeroProductKey); err != nil {
		return err
	}
	if err := o.SetAPIPassword(HeroProductKey, "Herouser", apiPassword); err != nil {
		return err
	}
	if err := o.SetLoginAccess(HeroProductKey, "Herouser", true, true); err != nil {
		return err
	}
	name, colour, bookable := "Hero unregistered patient", "#ffeb3b", true
	_, err = o.AddSlotType(SlotTypeInput{Name: &name, Colour: &colour, Bookable: &bookable})
	return err
}

var reasons = []string{"Review", "Chest infection", "Medication review", "Blood pressure check",
	"Back pain", "Asthma review", "Rash", "Follow up", "Smear test", "Travel vaccinations", "Dressing change"}

// generateDay derives a date's sessions for a generated practice. Holders work mornings and
// afternoons on weekdays except their day off; a share of slots is already booked by reception.
// Each holder's sessions come from a generator of their own, so that one session can be made
// without the rest of the day (generateSession): a slot read needs only its session.
func generateDay(o *Org, d emis.Date) *Day {
	return &Day{Num: dayNum(d), Sessions: appendGeneratedSessions(nil, o, d, nil)}
}

// appendGeneratedSessions appends d's generated sessions, holder by holder, made in a (nil: on
// the heap).
func appendGeneratedSessions(out []*DiarySession, o *Org, d emis.Date, a *genArena) []*DiarySession {
	for hi := range o.Holders {
		out = appendHolderSessions(out, o, d, hi, a)
	}
	return out
}

// generateSession is the generated session of index idx on d (holder idx/2, half idx%2), or
// nil when there is none that day.
func generateSession(o *Org, d emis.Date, idx int) *DiarySession {
	hi := idx / 2
	if idx < 0 || hi >= len(o.Holders) {
		return nil
	}
	for _, s := range appendHolderSessions(nil, o, d, hi, nil) {
		if s.Index == idx {
			return s
		}
	}
	return nil
}

// appendHolderSessions appends holder hi's sessions on d, made in a (nil: on the heap).
func appendHolderSessions(out []*DiarySession, o *Org, d emis.Date, hi int, a *genArena) []*DiarySession {
	wd := d.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return out
	}
	h := o.Holders[hi]
	r := rngFor(o.Seed, uint64(o.GenSerial), 3, uint64(dayNum(d)), uint64(hi))
	if int(wd) == h.DayOff || r.IntN(100) < 4 { // day off, or leave
		return out
	}
	nurse := h.SlotLength >= 15
	type half struct {
		name  string
		start int
		count int
	}
	halves := []half{{"Morning surgery", 8*60 + 30, 18}, {"Afternoon surgery", 14*60 + 30, 18}}
	if nurse {
		halves = []half{{"Nurse clinic AM", 9 * 60, 12}, {"Nurse clinic PM", 14 * 60, 12}}
	}
	for k, hf := range halves {
		s := a.session()
		*s = DiarySession{Index: hi*2 + k, Name: hf.name, SiteID: h.SiteID, HolderIDs: a.ids(h.ID),
			Start: hf.start, SlotLength: h.SlotLength, Slots: a.slots(hf.count)}
		for i := range s.Slots {
			sl := &s.Slots[i]
			switch {
			case nurse:
				sl.TypeID = 4
			case i < 2:
				sl.TypeID = 2
			case k == 0 && i == hf.count-1:
				sl.TypeID = 5
			case i%5 == 4:
				sl.TypeID = 3
			default:
				sl.TypeID = 1
			}
			sl.Status = emis.SlotAvailable
			switch x := r.IntN(100); {
			case x < 2:
				sl.Status = emis.SlotBlocked
			case x < 4:
				sl.Status = emis.SlotEmbargoed
			case x < 36 && sl.TypeID != 5 && o.GenPatients > 0:
				sl.Status = emis.SlotBooked
				sl.PatientID = emisNumber(r.IntN(o.GenPatients))
				sl.AppointmentStatus = "Booked"
				sl.Reason = pick(r, reasons)
				sl.BookedBy = "Reception"
			}
		}
		out = append(out, s)
	}
	return out
}
