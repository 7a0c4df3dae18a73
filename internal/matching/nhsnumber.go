package matching

import (
	"errors"
	"strings"
	"unicode"
)

// Errors of ValidateNHSNumber. Callers branch on them with errors.Is; their messages are written
// for the person who typed the number and never repeat it.
var (
	ErrNHSNumberMissing    = errors.New("no NHS number was given")
	ErrNHSNumberFormat     = errors.New("an NHS number is 10 digits")
	ErrNHSNumberCheckDigit = errors.New("the NHS number's last digit does not match the others (Modulus 11 check); it is probably mistyped")
)

// ValidateNHSNumber strips spaces and hyphens ("943 476 5919", "943-476-5919") and checks that
// what is left is 10 ASCII digits whose last is the Modulus 11 check digit of the first nine. It
// returns the 10 digits. The check catches most single-digit typos and transpositions, which is
// why an NHS number failing it is treated as not given rather than as a near match.
func ValidateNHSNumber(s string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if n == "" {
		return "", ErrNHSNumberMissing
	}
	if len(n) != 10 {
		return "", ErrNHSNumberFormat
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", ErrNHSNumberFormat
		}
	}
	check, ok := nhsCheckDigit(n[:9])
	if !ok || int(n[9]-'0') != check {
		return "", ErrNHSNumberCheckDigit
	}
	return n, nil
}

// nhsCheckDigit is the Modulus 11 check digit of nine ASCII digits: weights 10 down to 2, the
// check digit is 11 minus the remainder of the sum by 11, where 11 becomes 0 and 10 means no
// number with this body is valid.
func nhsCheckDigit(body string) (int, bool) {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(body[i]-'0') * (10 - i)
	}
	switch check := 11 - sum%11; check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	default:
		return check, true
	}
}

// validNHSNumber is the normalised NHS number if s is a valid one, else "".
func validNHSNumber(s string) string {
	n, err := ValidateNHSNumber(s)
	if err != nil {
		return ""
	}
	return n
}
