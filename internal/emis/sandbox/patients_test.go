package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
)

func TestGetMatchedPatientMatchesEachKindOfTerm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, conn := connected(t, sandbox.Options{Seed: 1})
	all, err := conn.GetMatchedPatient(ctx, "Demo Dorothy")
	if err != nil || len(all) != 1 {
		t.Fatalf("Demo Dorothy: %+v, %v", all, err)
	}
	dorothy := all[0].NhsNumber
	spaced := dorothy[:3] + " " + dorothy[3:6] + " " + dorothy[6:]
	cases := []struct {
		filter string
		want   []string // first names expected, in any order; nil means no match
	}{
		{dorothy, []string{"Dorothy"}},
		{spaced, []string{"Dorothy"}},
		{"demo", []string{"Dorothy", "Derek"}},
		{"DEM dor", []string{"Dorothy"}},
		{"Demo 12/04/1948", []string{"Dorothy"}},
		{"demo LS14AP", []string{"Dorothy", "Derek"}},
		{"demo ls1 4ap", []string{"Dorothy", "Derek"}},
		{"Okafor 14/03/2009", []string{"Chiamaka", "Chinwe"}}, // twins: every candidate returned
		{"Khan Mohammed 02/07/1984", []string{"Mohammed", "Mohammed"}},
		{"o'brien seán", []string{"Seán"}},
		{"smith-jones anna", []string{"Anna Maria"}},
		{"Demo 13/04/1948", nil},
		{"9990000000", nil},
	}
	for _, c := range cases {
		got, err := conn.GetMatchedPatient(ctx, c.filter)
		if err != nil {
			t.Errorf("%q: %v", c.filter, err)
			continue
		}
		var names []string
		for _, p := range got {
			names = append(names, p.FirstNames)
		}
		if strings.Join(sorted(names), ",") != strings.Join(sorted(c.want), ",") {
			t.Errorf("%q matched %v, want %v", c.filter, names, c.want)
		}
	}
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestEveryGeneratedNHSNumberIsValidTestDataAndUniqueInItsPractice(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 3, Practices: 5})
	for _, cdb := range []int{sandbox.DemoCDB, sandbox.GeneratedCDB(1), sandbox.GeneratedCDB(5)} {
		o, err := b.world.Org(cdb)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int64{}
		patients := o.SearchPatients("", 1000)
		if len(patients) < 300 {
			t.Fatalf("practice %d has only %d patients", cdb, len(patients))
		}
		for _, p := range patients {
			n := p.NHSNumber
			if len(n) != 10 || !strings.HasPrefix(n, "999") {
				t.Fatalf("patient %d has NHS number %q outside the 999 test range", p.ID, n)
			}
			if d, ok := sandbox.NHSCheckDigit(n[:9]); !ok || int(n[9]-'0') != d {
				t.Fatalf("patient %d: NHS number %s fails Modulus 11", p.ID, n)
			}
			if other, dup := seen[n]; dup {
				t.Fatalf("NHS number %s is held by patients %d and %d", n, other, p.ID)
			}
			seen[n] = p.ID
			if p.FamilyName == "" || p.FirstNames == "" || p.DateOfBirth == "" || p.Postcode == "" {
				t.Fatalf("incomplete patient %+v", p)
			}
		}
	}
}

func TestNHSCheckDigitKnownValues(t *testing.T) {
	t.Parallel()
	// 943 476 5919 is the NHS's published example of a valid number.
	if d, ok := sandbox.NHSCheckDigit("943476591"); !ok || d != 9 {
		t.Fatalf("check digit of 943476591 = %d, %v; want 9", d, ok)
	}
	if _, ok := sandbox.NHSCheckDigit("12345678"); ok {
		t.Fatal("an 8-digit body has no check digit")
	}
}

func TestRegisterPatientRefusesBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	before := len(mustDecode[[]sandbox.Patient](t, b.mustAdmin(t, 200, "GET", demoOrg+"/patients?limit=1000", nil)))
	cases := []struct {
		body map[string]any
		says string
	}{
		{map[string]any{"family_name": "Test", "first_names": "A", "date_of_birth": "1990-01-01", "nhs_number": "9990000001"}, "Modulus 11"},
		{map[string]any{"family_name": "Test", "first_names": "A", "date_of_birth": "1990-02-30"}, "date_of_birth"},
		{map[string]any{"family_name": "Test", "first_names": "A", "date_of_birth": "1990-01-01", "sex": "X"}, "sex"},
		{map[string]any{"first_names": "A", "date_of_birth": "1990-01-01"}, "required"},
		{map[string]any{"family_name": "Test", "first_names": "A", "date_of_birth": "1990-01-01", "nickname": "x"}, "unknown field"},
	}
	for _, c := range cases {
		status, body := b.admin(t, "POST", demoOrg+"/patients", c.body)
		if status != 422 || !strings.Contains(string(body), c.says) {
			t.Errorf("%v: %d %s, want 422 saying %q", c.body, status, body, c.says)
		}
	}
	after := len(mustDecode[[]sandbox.Patient](t, b.mustAdmin(t, 200, "GET", demoOrg+"/patients?limit=1000", nil)))
	if after != before {
		t.Fatalf("refused registrations changed the register: %d -> %d", before, after)
	}
	p := mustDecode[sandbox.Patient](t, b.mustAdmin(t, 201, "POST", demoOrg+"/patients",
		map[string]any{"family_name": "Newcomer", "first_names": "Nia", "date_of_birth": "1999-09-09", "postcode": "ls2 9jt"}))
	if p.ID <= 0 || p.Postcode != "LS2 9JT" {
		t.Fatalf("registered %+v", p)
	}
	b.followGuide(t, "Herouser")
	c := b.connect(t, "Herouser", apiPassword)
	got, err := c.GetMatchedPatient(context.Background(), "Newcomer LS29JT")
	if err != nil || len(got) != 1 || got[0].DBID != p.ID {
		t.Fatalf("new patient not found by search: %+v, %v", got, err)
	}
}
