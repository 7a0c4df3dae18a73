package sandbox

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"herolink/internal/emis"
)

// referenceEnvelope is how answers were written before the hand encoder: encoding/xml alone.
func referenceEnvelope(method string, a answer) []byte {
	env := emis.Envelope{Method: method, Outcome: a.outcome, Error: a.text}
	if a.result != nil {
		data, err := xml.Marshal(a.result)
		if err != nil {
			panic(err)
		}
		env.Result.Data = data
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(env); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// text draws strings that need no escaping as well as ones full of what does: markup
// characters, control characters, invalid UTF-8, characters XML forbids.
func text() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom([]string{"", "Morning surgery", "Dr", "SW1A 1AA", "Available"}),
		rapid.String(),
		rapid.StringOf(rapid.SampledFrom([]rune{'a', '<', '>', '&', '"', '\'', '\t', '\n', '\r', 0, 0x1f, 'é', 0xfffe, 0x10ffff, 0xd7ff})),
		rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }),
	)
}

func TestHandEncodingMatchesEncodingXML(t *testing.T) {
	holder := rapid.Custom(func(t *rapid.T) emis.Holder {
		return emis.Holder{DBID: rapid.Int64().Draw(t, "id"), Title: text().Draw(t, "title"), FirstNames: text().Draw(t, "first"),
			LastName: text().Draw(t, "last"), JobCategory: text().Draw(t, "job")}
	})
	count := rapid.Custom(func(t *rapid.T) emis.SessionSlotCount {
		return emis.SessionSlotCount{TypeID: rapid.Int().Draw(t, "type"), Description: text().Draw(t, "desc"), Total: rapid.Int().Draw(t, "total"),
			Booked: rapid.Int().Draw(t, "booked"), Blocked: rapid.Int().Draw(t, "blocked"), Embargoed: rapid.Int().Draw(t, "emb"), Available: rapid.Int().Draw(t, "avail")}
	})
	session := rapid.Custom(func(t *rapid.T) emis.Session {
		return emis.Session{DBID: rapid.Int64().Draw(t, "id"), GUID: text().Draw(t, "guid"), Name: text().Draw(t, "name"), Date: text().Draw(t, "date"),
			StartTime: text().Draw(t, "start"), EndTime: text().Draw(t, "end"), SlotLength: rapid.Int().Draw(t, "len"),
			Site:    emis.Site{DBID: rapid.Int64().Draw(t, "site"), Name: text().Draw(t, "sitename"), Postcode: text().Draw(t, "postcode")},
			Holders: rapid.SliceOfN(holder, 0, 3).Draw(t, "holders"), SlotTypes: rapid.SliceOfN(count, 0, 3).Draw(t, "types")}
	})
	patient := rapid.Custom(func(t *rapid.T) emis.PatientBrief {
		return emis.PatientBrief{DBID: rapid.Int64().Draw(t, "id"), NhsNumber: text().Draw(t, "nhs"), FamilyName: text().Draw(t, "family"), FirstNames: text().Draw(t, "first")}
	})
	slot := rapid.Custom(func(t *rapid.T) emis.Slot {
		return emis.Slot{DBID: rapid.Int64().Draw(t, "id"), GUID: text().Draw(t, "guid"), SessionGUID: text().Draw(t, "sguid"),
			SessionDBID: rapid.Int64().Draw(t, "sid"), Date: text().Draw(t, "date"), StartTime: text().Draw(t, "start"), SlotLength: rapid.Int().Draw(t, "len"),
			Type:   emis.SlotTypeRef{TypeID: rapid.Int().Draw(t, "type"), Description: text().Draw(t, "desc")},
			Status: text().Draw(t, "status"), AppointmentStatus: text().Draw(t, "astatus"), Patients: rapid.SliceOfN(patient, 0, 2).Draw(t, "patients"),
			Notes: text().Draw(t, "notes"), Reason: text().Draw(t, "reason"), BookedBy: text().Draw(t, "by")}
	})
	rapid.Check(t, func(t *rapid.T) {
		method := rapid.SampledFrom([]string{emis.MethodGetAppointmentSessions, emis.MethodGetSlotsForSession, emis.MethodLogon}).Draw(t, "method")
		a := answer{outcome: emis.Outcome(rapid.IntRange(0, 9).Draw(t, "outcome")), text: text().Draw(t, "error")}
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 1:
			a.result = emis.SessionList{Sessions: rapid.SliceOfN(session, 0, 4).Draw(t, "sessions")}
		case 2:
			a.result = emis.SlotList{Slots: rapid.SliceOfN(slot, 0, 4).Draw(t, "slots")}
		case 3:
			a.result = emis.SessionResult{SessionID: text().Draw(t, "sessionid")}
		}
		got, err := appendEnvelope(nil, method, a)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceEnvelope(method, a); !bytes.Equal(got, want) {
			t.Fatalf("hand encoding differs from encoding/xml\n got: %q\nwant: %q", got, want)
		}
	})
}

// A generated practice's real answers, not only random ones, come out as encoding/xml wrote them.
func TestHandEncodingOfGeneratedPractice(t *testing.T) {
	w := New(Options{Seed: 1, Practices: 2, NoDemo: true})
	for _, o := range w.Orgs() {
		today := w.Today()
		a := o.appointmentSessions(map[string][]string{"startDate": {today.String()}, "endDate": {today.AddDays(13).String()}})
		got, _ := appendEnvelope(nil, emis.MethodGetAppointmentSessions, a)
		if !bytes.Equal(got, referenceEnvelope(emis.MethodGetAppointmentSessions, a)) {
			t.Fatal("session list differs from encoding/xml")
		}
		for _, s := range a.result.(emis.SessionList).Sessions[:5] {
			a := o.slotsForSession(s.DBID)
			got, _ := appendEnvelope(nil, emis.MethodGetSlotsForSession, a)
			if !bytes.Equal(got, referenceEnvelope(emis.MethodGetSlotsForSession, a)) {
				t.Fatal("slot list differs from encoding/xml")
			}
		}
	}
}

func TestGUIDFormat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind, id := rapid.IntRange(0, 0xffff).Draw(t, "kind"), rapid.Int64Min(0).Draw(t, "id")
		want := fmt.Sprintf("5a4db0c5-%04x-4%03x-8%03x-%012x", kind, (id>>48)&0xfff, (id>>36)&0xfff, id&0xffffffffffff)
		if got := guid(kind, id); got != want {
			t.Fatalf("guid(%d, %d) = %s, want %s", kind, id, got, want)
		}
	})
}
