package matching

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormaliseName folds a name to the form names are compared in: lower case, accents removed,
// and nothing but letters and digits, so that "O'Brien", "OBrien" and "o brien" are all "obrien"
// and "Smith-Jones" and "Smith Jones" are both "smithjones". Letters outside the Latin alphabet
// are kept, lower-cased. Normalising a normalised name changes nothing.
func NormaliseName(s string) string {
	return strings.Join(nameWords(s), "")
}

// nameWords folds a name like NormaliseName but keeps its words apart: spaces, hyphens and other
// punctuation separate words, apostrophes do not ("O'Brien" is one word, "Anna-Maria" two).
// Forenames are compared as words because EMIS keeps middle names in FirstNames.
func nameWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		r = unicode.ToLower(r)
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
			// accents and other combining marks, split off by NFKD: é is e and U+0301
		case isApostrophe(r):
			// joins: O'Brien is one word
		case foldSpecial[r] != "":
			b.WriteString(foldSpecial[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '\u2019', '\u2018', '\u02bc', '`', '\u00b4':
		return true
	}
	return false
}

// foldSpecial spells the Latin letters that Unicode does not decompose into a base letter and an
// accent.
var foldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th",
	'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŋ': "n", 'ĸ': "k", 'ſ': "s", 'ƒ': "f",
}

// NormalisePostcode removes all spacing (and bytes that are not UTF-8) and upper-cases: "ls1 4ap"
// and "LS14AP" are "LS14AP".
func NormalisePostcode(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
}

// forenamesAgree compares forenames word by word: they agree when the words of one, read from the
// start and joined, spell all the words of the other. "Anna" agrees with "Anna Maria", "Mary Anne"
// with "Mary" and "JeanLuc" with "Jean-Luc"; "Anne" does not agree with "Mary Anne", nor "Jo" with
// "Joanne", nor "Mary Jane" with "Mary Anne". Empty lists agree with nothing.
func forenamesAgree(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return spellsLeadingWords(b, strings.Join(a, "")) || spellsLeadingWords(a, strings.Join(b, ""))
}

// spellsLeadingWords reports whether some leading run of words, joined, is exactly s.
func spellsLeadingWords(words []string, s string) bool {
	joined := ""
	for _, w := range words {
		joined += w
		if joined == s {
			return true
		}
		if len(joined) >= len(s) {
			return false
		}
	}
	return false
}
