package bench

import (
	"strings"
	"testing"
	"time"
)

func TestTableFormatAlignsMetricsLeftValuesRightAndUnits(t *testing.T) {
	var tb Table
	tb.Add("practices", 7000, "", "")
	tb.Add("sandbox start", 0.25, "%.3f", "s")
	tb.Add("  latency p99", 123.456, "%.2f", "ms")
	var b strings.Builder
	if err := tb.Format(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"metric          value  unit\n" +
		"practices        7000\n" +
		"sandbox start   0.250  s\n" +
		"  latency p99  123.46  ms\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestSandboxResultTableHasARowPerFigure(t *testing.T) {
	tb := SandboxResult{Practices: 7000, StartS: 1.5, RSSStartBytes: 100 << 20}.Table()
	var b strings.Builder
	_ = tb.Format(&b)
	for _, want := range []string{"practices", "7000", "sandbox RSS after start", "100.0  MiB", "GetSlotsForSession", "errors"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %q ends in a space", line)
		}
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := Percentile(d, 0.5); got != 50*time.Millisecond {
		t.Errorf("p50 = %s", got)
	}
	if got := Percentile(d, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %s", got)
	}
	if got := Percentile(d[:1], 0.99); got != time.Millisecond {
		t.Errorf("p99 of one = %s", got)
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of none = %s", got)
	}
}
