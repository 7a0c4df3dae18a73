package api

import (
	"net/http"
	"strings"
	"testing"
)

// deepBody is the 18 KB body that cost the shape checker 165 ms and 86 MB: a book request
// whose patient_id, a field the shape checker walks into, holds 9,000 nested arrays.
func deepBody(n int) []byte {
	return []byte(`{"patient_id":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

func TestADeeplyNestedBodyIsRefusedAtOnceWithASpecificMessage(t *testing.T) {
	body := deepBody(9000)
	var p *Problem
	allocs := testing.AllocsPerRun(5, func() { _, p = decodeBook(body) })
	if p == nil || p.Status != http.StatusBadRequest || p.Code != codeInvalidJSON {
		t.Fatalf("problem %+v, want 400 invalid_json", p)
	}
	if !strings.Contains(p.Detail, "nested more than 32 levels deep") {
		t.Errorf("detail %q does not say the body is nested too deep", p.Detail)
	}
	// Refused by the byte scan, before any decoder ran: a handful of allocations (the problem
	// itself), where the decoders made tens of thousands.
	if allocs > 20 {
		t.Errorf("refusing the deep body made %.0f allocations, want at most 20", allocs)
	}
}

func TestJSONNestingAndSizeBounds(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		refused    string // "" when accepted by the bound
	}{
		{"32 levels", `{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`, ""},
		{"33 levels", `{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, "nested more than 32"},
		{"brackets inside a string", `{"a":"` + strings.Repeat("[", 100) + `"}`, ""},
		{"an escaped quote does not end the string", `{"a":"\"` + strings.Repeat("{", 100) + `"}`, ""},
		{"2,000 values", `{"a":[` + strings.Repeat("1,", 1998) + `1]}`, ""},
		{"2,001 values", `{"a":[` + strings.Repeat("1,", 1999) + `1]}`, "more than 2000 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := boundJSON([]byte(tc.body))
			switch {
			case tc.refused == "" && p != nil:
				t.Fatalf("refused: %s", p.Detail)
			case tc.refused != "" && (p == nil || !strings.Contains(p.Detail, tc.refused)):
				t.Fatalf("problem %+v, want one saying %q", p, tc.refused)
			}
		})
	}
}
