package sandbox

import (
	"sort"
	"testing"
	"time"
)

func TestLatencyDrawsHaveTheConfiguredMedianAndNinetyNinthPercentile(t *testing.T) {
	t.Parallel()
	c := FaultConfig{LatencyP50MS: 150, LatencyP99MS: 600}
	const n = 20000
	draws := make([]time.Duration, n)
	for i := range draws {
		_, draws[i] = c.decide(time.Now())
	}
	sort.Slice(draws, func(i, j int) bool { return draws[i] < draws[j] })
	p50, p99 := draws[n/2], draws[n*99/100]
	if p50 < 135*time.Millisecond || p50 > 165*time.Millisecond {
		t.Errorf("median %s, want about 150ms", p50)
	}
	if p99 < 500*time.Millisecond || p99 > 720*time.Millisecond {
		t.Errorf("99th percentile %s, want about 600ms", p99)
	}
}

func TestFaultRatesDecideEachCallsFateInProportion(t *testing.T) {
	t.Parallel()
	c := FaultConfig{ErrorRate: 0.1, TimeoutRate: 0.05, TimeoutAfterWriteRate: 0.05, ResetRate: 0.1}
	const n = 20000
	counts := map[faultKind]int{}
	for range n {
		k, _ := c.decide(time.Now())
		counts[k]++
	}
	for kind, want := range map[faultKind]float64{faultError: 0.1, faultTimeout: 0.05, faultTimeoutAfterWrite: 0.05, faultReset: 0.1, faultNone: 0.7} {
		got := float64(counts[kind]) / n
		if got < want*0.85 || got > want*1.15 {
			t.Errorf("%s: %.3f of calls, want about %.2f", faultNames[kind], got, want)
		}
	}
}
