package emis

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestEMISTextLosesTheRequestsSecretsButKeepsItsMeaning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		params url.Values
		text   string
		want   string
	}{
		{"a password quoted as it was sent", url.Values{"password": {"Riverside2026api"}},
			"wrong password Riverside2026api", "wrong password [redacted]"},
		{"a username echoed in capitals", url.Values{"username": {"Herouser"}},
			"no user HEROUSER here", "no user [redacted] here"},
		{"each word of a search filter, where it stands alone", url.Values{"filter": {"Lee 1990-01-01"}},
			"no match for LEE born 1990-01-01; see Leeds", "no match for [redacted] born [redacted]; see Leeds"},
		{"words of notes are not taken out one by one", url.Values{"notes": {"for Ann"}},
			"booked for the patient", "booked for the patient"},
		{"notes quoted cut short", url.Values{"notes": {"herolink HL-1: Patient: Philippa Quennell-Ashworth, born 1987-06-05"}},
			"notes rejected: 'Patient: Philippa Quenn'", "notes rejected: '[redacted]'"},
		{"a value quoted inside a longer word", url.Values{"sessionId": {"s3cr3t-session"}},
			"session xs3cr3t-sessionx expired", "session x[redacted]x expired"},
		{"numbers and dates that help find the cause stay", url.Values{"slotId": {"10983400000"}, "startDate": {"2026-03-02"},
			"cdb": {"29001"}, "patientId": {"9001"}}, "slot 10983400000 of 29001 on 2026-03-02 for 9001", "slot 10983400000 of 29001 on 2026-03-02 for 9001"},
		{"values too short to mean anything stay", url.Values{"reason": {"ok"}},
			"ok then", "ok then"},
		{"neighbouring values become one mark", url.Values{"username": {"Herouser"}, "password": {"Pw-1234"}},
			"Herouser/Pw-1234", "[redacted]/[redacted]"},
		{"no text, nothing to do", url.Values{"password": {"secret"}}, "", ""},
	} {
		if got := redact(tc.text, tc.params); got != tc.want {
			t.Errorf("%s: redact(%q) = %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}

func TestARedactedTransportErrorStillSaysItTimedOut(t *testing.T) {
	t.Parallel()
	params := url.Values{"password": {"Pw-Kestrel-9147"}}
	cause := timeoutError{"dial Pw-Kestrel-9147.example: i/o timeout"}
	err := redactError(&TransportError{Method: MethodLogon, Err: cause}, params).(*TransportError)
	if strings.Contains(err.Error(), "Pw-Kestrel") {
		t.Fatalf("error = %q", err)
	}
	if !err.Timeout() {
		t.Fatal("the redacted error no longer says it timed out")
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "Pw-Kestrel") {
			t.Fatalf("a wrapped error still carries the password: %q", e)
		}
	}
	sentinel := redactError(&TransportError{Method: MethodLogon, Err: ErrAnswerTooLarge}, params)
	if !errors.Is(sentinel, ErrAnswerTooLarge) {
		t.Fatal("a cause without secrets lost its identity")
	}
}

type timeoutError struct{ msg string }

func (e timeoutError) Error() string { return e.msg }
func (e timeoutError) Timeout() bool { return true }

// FuzzRedact: whatever EMIS answers and whatever the secret, the secret is gone from the text.
func FuzzRedact(f *testing.F) {
	f.Add("wrong password Riverside2026api", "Riverside2026api")
	f.Add("NO USER HEROUSER", "Herouser")
	f.Add("Patient: Philippa Quenn", "Patient: Philippa Quennell-Ashworth")
	f.Add("ééé secret ééé", "secret")
	f.Fuzz(func(t *testing.T, text, secret string) {
		// A secret made of the mark's own characters could be rebuilt by the mark itself.
		if len(secret) < minRedacted || strings.ContainsAny(secret, "[]") {
			return
		}
		got := redact(text, url.Values{"password": {secret}})
		if strings.Contains(asciiLower(got), asciiLower(secret)) {
			t.Fatalf("redact(%q) = %q still holds %q", text, got, secret)
		}
	})
}
