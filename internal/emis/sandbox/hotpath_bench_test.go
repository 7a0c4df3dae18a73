package sandbox

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"herolink/internal/emis"
)

// benchOrg is a generated practice with its 14-day session list parameters.
func benchOrg(b *testing.B) (*Org, url.Values) {
	b.Helper()
	w := New(Options{Seed: 1, Practices: 1, NoDemo: true})
	o := w.Orgs()[0]
	today := w.Today()
	p := url.Values{"startDate": {today.String()}, "endDate": {today.AddDays(13).String()}}
	return o, p
}

func BenchmarkSessionList14Days(b *testing.B) {
	o, p := benchOrg(b)
	b.ReportAllocs()
	for b.Loop() {
		a := o.appointmentSessions(p)
		rec := httptest.NewRecorder()
		writeEnvelope(rec, emis.MethodGetAppointmentSessions, a)
	}
}

func BenchmarkSlotList(b *testing.B) {
	o, p := benchOrg(b)
	a := o.appointmentSessions(p)
	id := a.result.(emis.SessionList).Sessions[0].DBID
	b.ReportAllocs()
	for b.Loop() {
		a := o.slotsForSession(id)
		rec := httptest.NewRecorder()
		writeEnvelope(rec, emis.MethodGetSlotsForSession, a)
	}
}
