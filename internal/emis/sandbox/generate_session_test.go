package sandbox

import (
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
