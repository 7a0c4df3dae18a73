package matching

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
)

func TestValidateNHSNumberAcceptsValidNumbersHoweverSpaced(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"9434765919":     "9434765919", // the NHS's published example
		"943 476 5919":   "9434765919",
		"943-476-5919":   "9434765919",
		" 943 476 5919 ": "9434765919",
		"9990000018":     "9990000018", // 999 range: test data
		"9990000050":     "9990000050", // remainder 0: check digit 11 becomes 0
		"9998765439":     "9998765439",
		"999\t000\t0026": "9990000026",
	}
	for in, want := range cases {
		got, err := ValidateNHSNumber(in)
		if err != nil || got != want {
			t.Errorf("ValidateNHSNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestValidateNHSNumberRefusesWhatIsNotAValidNumber(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrNHSNumberMissing},
		{" - ", ErrNHSNumberMissing},
		{"943476591", ErrNHSNumberFormat},   // 9 digits
		{"94347659190", ErrNHSNumberFormat}, // 11 digits
		{"943476591X", ErrNHSNumberFormat},
		{"943.476.5919", ErrNHSNumberFormat},
		{"９４３４７６５９１９", ErrNHSNumberFormat},     // full-width digits are not ASCII digits
		{"9434765918", ErrNHSNumberCheckDigit}, // last digit mistyped
		{"9434765991", ErrNHSNumberCheckDigit}, // two digits transposed
		{"9990000019", ErrNHSNumberCheckDigit},
		{"9991234560", ErrNHSNumberCheckDigit}, // 999123456 gives check digit 10: no valid number
		{"9991234569", ErrNHSNumberCheckDigit},
		{"9990000140", ErrNHSNumberCheckDigit}, // 999000014 gives 10 too
	}
	for _, c := range cases {
		got, err := ValidateNHSNumber(c.in)
		if !errors.Is(err, c.want) || got != "" {
			t.Errorf("ValidateNHSNumber(%q) = %q, %v; want %v", c.in, got, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(c.in)) && strings.TrimSpace(c.in) != "" {
			t.Errorf("the error for %q repeats the number: %v", c.in, err)
		}
	}
}

func TestCheckDigitTenMakesEveryNumberWithThatBodyInvalid(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"999123456", "999000014", "999777888"} {
		if _, ok := nhsCheckDigit(body); ok {
			t.Fatalf("%s should give check digit 10", body)
		}
		for d := 0; d <= 9; d++ {
			if _, err := ValidateNHSNumber(fmt.Sprintf("%s%d", body, d)); !errors.Is(err, ErrNHSNumberCheckDigit) {
				t.Errorf("%s%d: %v, want ErrNHSNumberCheckDigit", body, d, err)
			}
		}
	}
}

func TestCheckDigitAgreesWithTheSandboxAcrossTheTestRange(t *testing.T) {
	t.Parallel()
	for i := 0; i < 20000; i++ {
		body := fmt.Sprintf("999%06d", i*37%1000000)
		want, wantOK := sandbox.NHSCheckDigit(body)
		got, ok := nhsCheckDigit(body)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("check digit of %s = %d, %v; sandbox says %d, %v", body, got, ok, want, wantOK)
		}
	}
}

func FuzzValidateNHSNumber(f *testing.F) {
	for _, s := range []string{"9434765919", "943 476 5919", "943-476-5919", "9434765918", "9991234560",
		"", "abc", "٩٤٣٤٧٦٥٩١٩", "9990000018\n", "--9990000018--", "99900000 18"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ValidateNHSNumber(s)
		if err != nil {
			if n != "" {
				t.Fatalf("an error came with a number %q", n)
			}
			if !errors.Is(err, ErrNHSNumberMissing) && !errors.Is(err, ErrNHSNumberFormat) && !errors.Is(err, ErrNHSNumberCheckDigit) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(n) != 10 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("%q accepted as %q, not 10 digits", s, n)
		}
		if again, err := ValidateNHSNumber(n); err != nil || again != n {
			t.Fatalf("revalidating %q gave %q, %v", n, again, err)
		}
		if d, ok := sandbox.NHSCheckDigit(n[:9]); !ok || int(n[9]-'0') != d {
			t.Fatalf("%q accepted but fails the sandbox's Modulus 11", n)
		}
		if strings.Join(strings.Fields(strings.ReplaceAll(s, "-", "")), "") != n {
			t.Fatalf("%q accepted as %q: more than spaces and hyphens removed", s, n)
		}
	})
}
