package webhook

import (
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks specification (and of the svix libraries): a
// verifier written from the specification must agree with it byte for byte.
func TestTheSignerReproducesTheStandardWebhooksExample(t *testing.T) {
	t.Parallel()
	secret, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	h := Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), secret)
	if h.Signature != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" || h.Timestamp != "1614265330" {
		t.Fatalf("%+v", h)
	}
}

func TestASecretIsShownAsWhsecAndNeverPrintsItself(t *testing.T) {
	t.Parallel()
	s := NewSecret()
	enc := s.Encode()
	back, err := ParseSecret(enc)
	if err != nil || string(back) != string(s) || !strings.HasPrefix(enc, "whsec_") || len(s) < 24 {
		t.Fatalf("%q %v", enc, err)
	}
	for _, printed := range []string{s.String(), s.GoString()} {
		if strings.Contains(printed, enc[6:]) {
			t.Fatal("the secret printed itself")
		}
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!"} {
		if _, err := ParseSecret(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("whsec_")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSecret(s)
		if err == nil && len(b) == 0 {
			t.Fatal("an empty secret accepted")
		}
	})
}
