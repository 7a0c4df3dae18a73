package emis

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// publicParams are request parameters that neither grant access nor describe a patient: numbers
// and dates EMIS's text may quote back, which help find the cause. Every other parameter
// (password, username, login and session ids, search filters, reasons, notes, who booked) is
// taken out of any text EMIS answers before it becomes an error: that text is stored in
// last_error, logged and shown to support staff, who never see a patient.
var publicParams = map[string]bool{
	"cdb": true, "supplierId": true, "startDate": true, "endDate": true, "siteId": true,
	"appointmentSessionId": true, "slotId": true, "slotTypeId": true, "status": true, "patientId": true,
}

// redactedText replaces a request's secret value in an error's text.
const redactedText = "[redacted]"

// minRedacted is the shortest whole value, or search-filter word, taken out: shorter ones
// would cut words of the message itself and say nothing on their own.
const minRedacted = 3

// minQuoted is the shortest run of text taken out because it appears inside a secret value:
// EMIS may quote a value cut short ("notes too long: herolink ABC: unregistered patient booking.
// Patient: Philippa Quenn"), and every such run of 8 or more characters goes.
const minQuoted = 8

// redact takes the request's non-public parameter values out of text, ignoring ASCII case
// (EMIS may echo a surname in capitals): whole values, each word of a search filter (its
// surname or NHS number is a patient detail on its own), and any run of minQuoted characters
// that appears inside a value.
func redact(text string, params url.Values) string {
	if text == "" {
		return text
	}
	lower := asciiLower(text)
	marked := make([]bool, len(text))
	mark := func(i, j int) {
		for ; i < j; i++ {
			marked[i] = true
		}
	}
	var values []string
	for k, vs := range params {
		if publicParams[k] {
			continue
		}
		for _, v := range vs {
			v = asciiLower(v)
			values = append(values, v)
			if len(v) >= minRedacted {
				for i := 0; ; {
					n := strings.Index(lower[i:], v)
					if n < 0 {
						break
					}
					mark(i+n, i+n+len(v))
					i += n + 1
				}
			}
			if k != "filter" {
				continue
			}
			for _, w := range strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
				if len(w) < minRedacted {
					continue
				}
				for i := 0; ; {
					n := strings.Index(lower[i:], w)
					if n < 0 {
						break
					}
					if wordAt(lower, i+n, i+n+len(w)) {
						mark(i+n, i+n+len(w))
					}
					i += n + 1
				}
			}
		}
	}
	// Runs quoted from inside a value: from each position, the longest run found in a value.
	for i := 0; i+minQuoted <= len(lower); i++ {
		if lower[i] == ' ' {
			continue // a run starts at a word, so that the message keeps its spaces
		}
		longest := 0
		for _, v := range values {
			if !strings.Contains(v, lower[i:i+minQuoted]) {
				continue
			}
			// Containment shrinks as the run grows, so the longest run is found by bisection.
			lo, hi := minQuoted, len(lower)-i
			for lo < hi {
				mid := (lo + hi + 1) / 2
				if strings.Contains(v, lower[i:i+mid]) {
					lo = mid
				} else {
					hi = mid - 1
				}
			}
			longest = max(longest, lo)
		}
		for longest > 0 && lower[i+longest-1] == ' ' {
			longest--
		}
		mark(i, i+longest)
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch {
		case !marked[i]:
			b.WriteByte(text[i])
		case i == 0 || !marked[i-1]:
			b.WriteString(redactedText)
		}
	}
	return b.String()
}

// asciiLower lowers ASCII letters only, byte by byte, so that byte offsets in the result are
// the text's even when the text is not valid UTF-8.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// wordAt reports whether s[i:j] stands alone: no letter or digit touches it on either side.
func wordAt(s string, i, j int) bool {
	if r, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(s[j:]); j < len(s) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return false
	}
	return true
}

// redactedError is a cause whose text had the request's secret values taken out. What it
// wraps is redacted the same way, all down the chain, so that errors.Unwrap never reaches the
// original text; sentinels and causes without secrets come through as they are, so errors.Is
// keeps working, and Timeout still reports a timeout anywhere below.
type redactedError struct {
	msg    string
	err    error
	params url.Values
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return redactCause(errors.Unwrap(e.err), e.params) }

// Timeout answers for the whole chain below, as errors.As would have found it.
func (e *redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// redactCause is err, or err with the request's secret values taken out of its text.
func redactCause(err error, params url.Values) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := redact(msg, params)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err, params: params}
}

// redactError takes the request's secret values out of a call's error text: EMIS's own text in
// an *OutcomeError, and in a *TransportError anything quoted from the answer (an XML syntax
// error names what it found; a method mismatch quotes the envelope; a redirect names a host).
func redactError(err error, params url.Values) error {
	switch e := err.(type) {
	case *OutcomeError:
		e.Text = redact(e.Text, params)
	case *TransportError:
		e.Err = redactCause(e.Err, params)
	}
	return err
}
