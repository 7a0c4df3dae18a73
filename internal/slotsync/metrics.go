package slotsync

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the sync's Prometheus metrics.
type Metrics struct {
	passes      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	slotChanges prometheus.Counter
	remembered  *prometheus.CounterVec
	fromCopy    *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
	emisCalls   *prometheus.CounterVec
	sched       *Scheduler
}

// NewMetrics registers the sync's metrics; freshness gauges read the database (through the
// scheduler's store) at scrape time, so a restart does not forget how old the diaries are.
func NewMetrics(reg prometheus.Registerer, sched *Scheduler) *Metrics {
	m := &Metrics{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herolink_sync_passes_total",
			Help: "Sync passes by kind (full horizon or near-term days) and result."}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "herolink_sync_pass_duration_seconds",
			Help: "Duration of sync passes.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}, []string{"kind"}),
		remembered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herolink_sync_passes_remembered_total",
			Help: "Successful sync passes that found EMIS and the stored diary as the last complete pass left them, so wrote nothing but the pass."}, []string{"kind"}),
		fromCopy: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herolink_sync_passes_stored_from_copy_total",
			Help: "Sync passes that compared EMIS's sessions with the engine's copy of the stored ones instead of listing them from the database."}, []string{"kind"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herolink_sync_refreshes_total",
			Help: "Rolling refreshes of a session's slots: confirmed (the list EMIS sent was byte for byte the one last applied, so only marked read) or compared slot by slot."}, []string{"how"}),
		slotChanges: prometheus.NewCounter(prometheus.CounterOpts{Name: "herolink_sync_slot_changes_total",
			Help: "Slot changes found in EMIS and applied to the stored diaries."}),
		emisCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herolink_sync_emis_calls_total",
			Help: "EMIS Partner API calls made by the sync, by method."}, []string{"method"}),
		sched: sched,
	}
	reg.MustRegister(m.passes, m.duration, m.slotChanges, m.remembered, m.fromCopy, m.refreshes, m.emisCalls, m)
	if sched.Leases != nil {
		reg.MustRegister(leaseCollector{sched.Leases})
	}
	return m
}

// CountCall is Engine.Calls.
func (m *Metrics) CountCall(method string) { m.emisCalls.WithLabelValues(method).Inc() }

func (m *Metrics) observePass(kind string, res Result, err error, elapsed time.Duration) {
	result := "ok"
	var incomplete *IncompleteError
	switch {
	case errors.As(err, &incomplete):
		result = "incomplete" // applied what it read; some sessions left for the next pass
	case err != nil:
		result = "error"
	}
	m.passes.WithLabelValues(kind, result).Inc()
	m.duration.WithLabelValues(kind).Observe(elapsed.Seconds())
	m.slotChanges.Add(float64(res.SlotChanges))
	m.refreshes.WithLabelValues("confirmed").Add(float64(res.Confirmed))
	m.refreshes.WithLabelValues("compared").Add(float64(max(res.Refreshed-res.Confirmed, 0)))
	if res.Remembered && err == nil {
		m.remembered.WithLabelValues(kind).Inc()
	}
	if res.StoredFromCopy {
		m.fromCopy.WithLabelValues(kind).Inc()
	}
}

var (
	descPractices = prometheus.NewDesc("herolink_sync_practices", "Practices the sync keeps fresh, by state.", []string{"state"}, nil)
	descOldest    = prometheus.NewDesc("herolink_sync_oldest_full_pass_age_seconds", "Time since the least recently fully synced practice's last complete full pass.", nil, nil)
	descStale     = prometheus.NewDesc("herolink_sync_stale_practices", "Practices whose last complete full pass is older than twice the full interval.", nil, nil)
)

// Describe implements prometheus.Collector for the freshness gauges.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPractices
	ch <- descOldest
	ch <- descStale
}

// Collect implements prometheus.Collector for the freshness gauges.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	f, err := m.sched.StoredFreshness(context.Background())
	if err != nil {
		for _, d := range []*prometheus.Desc{descPractices, descOldest, descStale} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(descPractices, prometheus.GaugeValue, float64(f.Practices-f.FirstSyncing-f.Failing), "fresh")
	ch <- prometheus.MustNewConstMetric(descPractices, prometheus.GaugeValue, float64(f.FirstSyncing), "first_sync")
	ch <- prometheus.MustNewConstMetric(descPractices, prometheus.GaugeValue, float64(f.Failing), "failing")
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, f.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(descStale, prometheus.GaugeValue, float64(f.Stale))
}
