package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/store"
)

// placeholderMetrics are the reconciliation inbox's gauges: open placeholders and the oldest
// one's age, over every practice. They are read from the database at scrape time, so every
// instance reports the same figures and a restart forgets nothing.
type placeholderMetrics struct {
	store *store.Store
	now   func() time.Time
}

var (
	descPlaceholdersOpen   = prometheus.NewDesc("herolink_placeholders_open", "Unregistered-patient placeholders waiting for their patient, over every practice.", nil, nil)
	descPlaceholderOldest  = prometheus.NewDesc("herolink_placeholder_oldest_age_seconds", "How long the oldest waiting placeholder has waited (0 when none waits).", nil, nil)
	descPlaceholderOverdue = prometheus.NewDesc("herolink_placeholders_overdue", "Waiting placeholders recorded overdue (past their practice's threshold).", nil, nil)
)

// Describe implements prometheus.Collector.
func (m placeholderMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPlaceholdersOpen
	ch <- descPlaceholderOldest
	ch <- descPlaceholderOverdue
}

// Collect implements prometheus.Collector.
func (m placeholderMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waiting, err := m.store.WaitingPlaceholders(ctx, 0)
	if err != nil {
		for _, d := range []*prometheus.Desc{descPlaceholdersOpen, descPlaceholderOldest, descPlaceholderOverdue} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	oldest, overdue := 0.0, 0
	for _, w := range waiting {
		if age := m.now().Sub(w.Since).Seconds(); age > oldest {
			oldest = age
		}
		if w.Overdue {
			overdue++
		}
	}
	ch <- prometheus.MustNewConstMetric(descPlaceholdersOpen, prometheus.GaugeValue, float64(len(waiting)))
	ch <- prometheus.MustNewConstMetric(descPlaceholderOldest, prometheus.GaugeValue, oldest)
	ch <- prometheus.MustNewConstMetric(descPlaceholderOverdue, prometheus.GaugeValue, float64(overdue))
}
