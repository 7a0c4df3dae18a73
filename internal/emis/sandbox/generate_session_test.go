package sandbox

import (
	"fmt"
	"reflect"
	"testing"
)

// A slot read makes only its session (generateSession), while a session list makes whole days
// (generateDay): for every generated practice, weekday and holder the two must be the same
// session, or EMIS would answer a session's slots that its session list does not describe.
func TestASessionMadeAloneIsTheSessionOfItsDay(t *testing.T) {
	w := New(Options{Seed: 7, Practices: 20, NoDemo: true})
	for _, o := range w.Orgs() {
		for k := range 21 {
			d := w.Today().AddDays(k - 7)
			day := generateDay(o, d)
			seen := map[int]bool{}
			for _, s := range day.Sessions {
				seen[s.Index] = true
				alone := generateSession(o, d, s.Index)
				if !reflect.DeepEqual(alone, s) {
					t.Fatalf("%s on %s: session %d made alone is %+v; its day has %+v", o.ODS, d, s.Index, alone, s)
				}
			}
			for idx := -1; idx <= 2*len(o.Holders); idx++ {
				if !seen[idx] && generateSession(o, d, idx) != nil {
					t.Fatalf("%s on %s: session %d is made alone but its day has none", o.ODS, d, idx)
				}
			}
		}
	}
}

// A booked slot names its patient from generatedNames alone: the names and numbers must be the
// whole generated patient's, for the hard cases and the rest, and the NHS numbers as fmt wrote
// them before (valid, 999-prefixed test numbers).
func TestASlotsPatientIsNamedAsTheRegisterHasThem(t *testing.T) {
	w := New(Options{Seed: 3, Practices: 3, NoDemo: true})
	for _, o := range w.Orgs() {
		o.mu.Lock()
		for idx := range min(o.GenPatients, 400) {
			full := o.generatedPatient(idx)
			brief, ok := o.patientBriefLocked(full.ID)
			if !ok || brief.DBID != full.ID || brief.NhsNumber != full.NHSNumber || brief.FamilyName != full.FamilyName || brief.FirstNames != full.FirstNames {
				o.mu.Unlock()
				t.Fatalf("%s patient %d: a slot names %+v; the register has %+v", o.ODS, idx, brief, full)
			}
			want := ""
			for bump := 0; want == ""; bump++ {
				body := fmt.Sprintf("999%03d%03d", (o.GenSerial+bump*337)%1000, idx%1000)
				if d, ok := NHSCheckDigit(body); ok {
					want = fmt.Sprintf("%s%d", body, d)
				}
			}
			if full.NHSNumber != want {
				o.mu.Unlock()
				t.Fatalf("%s patient %d: NHS number %s, want %s", o.ODS, idx, full.NHSNumber, want)
			}
		}
		// A patient reception edited is named as edited.
		edited := o.generatedPatient(5)
		edited.FamilyName = "Edited-Name"
		o.PatientEdits[edited.ID] = &edited
		if brief, _ := o.patientBriefLocked(edited.ID); brief.FamilyName != "Edited-Name" {
			o.mu.Unlock()
			t.Fatalf("%s: a slot names an edited patient %+v", o.ODS, brief)
		}
		o.mu.Unlock()
	}
}
