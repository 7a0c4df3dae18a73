package matching

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestNamesThatDifferOnlyInCaseAccentsSpacingHyphensAndApostrophesNormaliseAlike(t *testing.T) {
	t.Parallel()
	groups := [][]string{
		{"O'Brien", "OBrien", "O Brien", "o’brien", "O‘BRIEN", "obrien", " O'Brien ", "O-Brien"},
		{"Smith-Jones", "Smith Jones", "SmithJones", "smith - jones", "SMITH–JONES"},
		{"Seán", "Sean", "SEÁN", "Se\u0301an"}, // the last is é decomposed
		{"Zoë", "Zoe", "ZOË"},
		{"Chloé", "Chloe"},
		{"Nguyễn", "Nguyen", "NGUYỄN"},
		{"Łukasz", "Lukasz"},
		{"Søren", "Soren"},
		{"Strauß", "Strauss"},
		{"D'Souza", "DSouza", "D Souza"},
		{"Ciarán", "Ciaran"},
		{"Ødegård", "Odegard"},
		{"Ærø", "aero"},
	}
	for _, g := range groups {
		want := NormaliseName(g[0])
		for _, s := range g[1:] {
			if got := NormaliseName(s); got != want {
				t.Errorf("NormaliseName(%q) = %q, want %q like %q", s, got, want, g[0])
			}
		}
	}
}

func TestNamesThatAreDifferentNamesStayDifferent(t *testing.T) {
	t.Parallel()
	pairs := [][2]string{
		{"MacLeod", "McLeod"}, {"Iain", "Ian"}, {"Müller", "Mueller"}, {"Okafor", "Okafr"},
		{"Chinwe", "Chiamaka"}, {"Smith-Jones", "Smith"}, {"Jo", "Joanne"}, {"Okafor", "0kafor"},
	}
	for _, p := range pairs {
		if NormaliseName(p[0]) == NormaliseName(p[1]) {
			t.Errorf("%q and %q normalise alike", p[0], p[1])
		}
	}
}

func TestForenamesAgreeWhenOneListOfWordsBeginsTheOther(t *testing.T) {
	t.Parallel()
	cases := []struct {
		given, emis string
		want        bool
	}{
		{"Anna", "Anna Maria", true},
		{"Anna Maria", "Anna Maria", true},
		{"Anna-Maria", "Anna Maria", true},
		{"AnnaMaria", "Anna Maria", true},
		{"Mary Anne", "Mary", true}, // EMIS lacks the middle name: no contradiction
		{"Jean", "Jean-Luc", true},
		{"Maria", "Anna Maria", false}, // a middle name alone is not the first name
		{"Anne", "Mary Anne", false},
		{"Mary Jane", "Mary Anne", false},
		{"Jo", "Joanne", false}, // whole words only
		{"Ian", "Iain", false},
		{"", "Anna", false},
		{"Anna", "", false},
		{"---", "Anna", false},
	}
	for _, c := range cases {
		if got := forenamesAgree(nameWords(c.given), nameWords(c.emis)); got != c.want {
			t.Errorf("given %q against EMIS %q: agree = %v, want %v", c.given, c.emis, got, c.want)
		}
		if got := forenamesAgree(nameWords(c.emis), nameWords(c.given)); got != c.want {
			t.Errorf("forenamesAgree is not symmetric for %q and %q", c.given, c.emis)
		}
	}
}

func TestPostcodesNormaliseToUpperCaseWithoutSpaces(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"LS1 4AP", "ls14ap", " ls1  4ap ", "Ls1\t4aP"} {
		if got := NormalisePostcode(s); got != "LS14AP" {
			t.Errorf("NormalisePostcode(%q) = %q", s, got)
		}
	}
}

func FuzzNormaliseName(f *testing.F) {
	for _, s := range []string{"O'Brien", "Smith-Jones", "Seán", "Se\u0301an", "Nguyễn Thị", "Strauß", "ǅemal",
		"İbrahim", "ﬁona", "Ⅻ", "", " ", "'", "中村", "Ørsted", "ǰ", "ΣΊΣΥΦΟΣ", "ẞ", "\xff\xfe", "K\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormaliseName(s)
		if again := NormaliseName(n); again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, again)
		}
		for _, r := range n {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r)) || unicode.ToLower(r) != r {
				t.Fatalf("%q normalised to %q, which holds %q", s, n, r)
			}
		}
		words := nameWords(s)
		if strings.Join(words, "") != n {
			t.Fatalf("words %q do not spell %q", words, n)
		}
		if again := nameWords(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Fatalf("words not idempotent: %q -> %q -> %q", s, words, again)
		}
		if n != "" && !forenamesAgree(words, words) {
			t.Fatalf("%q does not agree with itself", s)
		}
		p := NormalisePostcode(s)
		if NormalisePostcode(p) != p {
			t.Fatalf("postcode not idempotent: %q -> %q", s, p)
		}
	})
}
