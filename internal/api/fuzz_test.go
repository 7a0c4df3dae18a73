package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// Request bodies and query strings are outside input: whatever they hold, decoding answers a
// value that keeps the rules or a 400/422 problem, and never panics.

func FuzzDecodeBodies(f *testing.F) {
	for _, s := range []string{
		`{"slot_id":"slt_1_1","appointment_type_id":"at_1","description":"d","comment":"c"}`,
		`{"patient_id":"pat_1"}`,
		`{"patient":{"nhs_number":"9990000018","family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01"}}`,
		`{"reason":"better"}`, ``, `{`, `[]`, `{"slot_id":"a","slot_id":"b"}`, `{"patient":{"x":[1,{"y":2}]}}`,
		`{"slot_id":1e999}`, "{\"slot_id\":\"\\ud800\"}", `{"patient":null}`, `{"patient_id":null}`,
		string(deepBody(33)), string(deepBody(300)), `{"patient":{"x":"[[[[\"[["}}`, `{"patient":{"x":[` + strings.Repeat("0,", 2100) + `0]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkProblem := func(p *Problem) {
			if p != nil && p.Status != http.StatusBadRequest && p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d for %q", p.Status, data)
			}
			if p != nil && p.Code == "" {
				t.Fatalf("no code for %q", data)
			}
		}
		// Whatever this layer accepts, encoding/json (strict) accepts too.
		agrees := func(v any) {
			if len(bytes.TrimSpace(data)) == 0 {
				return
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("accepted %q that encoding/json refuses: %v", data, err)
			}
		}

		// Nothing nested deeper than maxDepth gets past any decoder.
		if depthOf(data) > maxDepth {
			if _, p := decodeReserve(data); p == nil {
				t.Fatalf("accepted %q nested %d deep", data, depthOf(data))
			}
		}

		r, p := decodeReserve(data)
		checkProblem(p)
		if p == nil {
			if r.SlotID == "" || len(r.SlotID) > maxIDLength || utf8.RuneCountInString(r.Description) > maxDescription ||
				utf8.RuneCountInString(r.Comment) > maxComment {
				t.Fatalf("accepted %+v from %q", r, data)
			}
			agrees(&reserveBody{})
		}

		in, p := decodeBook(data)
		checkProblem(p)
		if p == nil {
			if in.PatientID == "" && strings.Contains(string(data), `"patient_id"`) && !strings.Contains(string(data), `"patient"`) {
				t.Fatalf("accepted an empty patient_id from %q", data)
			}
			agrees(&bookBody{})
		}

		var c cancelBody
		p = decodeBody(data, &c, true)
		checkProblem(p)
		if p == nil {
			agrees(&cancelBody{})
		}

		var pb patientBody
		p = decodeBody(data, &pb, false)
		checkProblem(p)
		if p == nil {
			for _, fp := range pb.check("") {
				if fp.Field == "" || fp.Message == "" {
					t.Fatalf("empty field problem for %q", data)
				}
			}
		}
	})
}

func FuzzSlotQuery(f *testing.F) {
	for _, s := range []string{
		"start_date=2026-03-03&end_date=2026-03-04",
		"start_date=2026-03-01&end_date=2026-04-25&limit=500&cursor=abc&location_id=loc_1",
		"start_date=2026-03-01&end_date=2026-04-26", "limit=0", "%zz", "start_date=2026-03-03&start_date=2026-03-03&end_date=2026-03-03",
		"start_date=9999-12-31&end_date=0000-01-01", "start_date=2026-10-25&end_date=2026-10-25",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "/v1/slots", nil)
		r.URL.RawQuery = raw
		q, p := slotQuery(r)
		if p != nil {
			if p.Status != http.StatusUnprocessableEntity || len(p.Errors) == 0 {
				t.Fatalf("problem %+v for %q", p, raw)
			}
			return
		}
		if q.From.IsZero() || q.To.Before(q.From) || calendarDays(q.From, q.To) > maxSlotDays || q.Limit < 1 || q.Limit > maxLimit ||
			len(q.Cursor) > maxCursor {
			t.Fatalf("accepted %+v from %q", q, raw)
		}
		if q.From.Location() != london || q.From.Hour() != 0 || q.To.Hour() != 0 {
			t.Fatalf("dates are not London midnights: %v %v", q.From, q.To)
		}
	})
}

// depthOf is the deepest nesting of a JSON text, counted the slow, obvious way: with
// encoding/json's tokens (invalid JSON counts up to where it breaks).
func depthOf(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
