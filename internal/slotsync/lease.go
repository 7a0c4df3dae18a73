package slotsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/store"
)

// ErrNotHeld is a pass asked for a practice this instance does not hold the sync lease of:
// another instance syncs it.
var ErrNotHeld = errors.New("slotsync: another instance holds this practice's sync lease")

// Leases keeps this instance's share of the per-practice sync leases: several instances on one
// database split the practices between them, each practice synced by the one instance holding
// its live lease. Every Renew the scheduler runs a round (Round) that renews the leases held,
// frees those above this instance's share and takes free or lapsed ones up to it; a killed
// instance's practices are taken by the others within TTL plus one round. On SQLite, with one
// instance, that instance holds them all.
type Leases struct {
	Store    *store.Store
	Instance string        // this instance's id: NewInstanceID
	TTL      time.Duration // how long a lease lasts unrenewed; 15 s if zero
	Renew    time.Duration // how often leases are renewed; 5 s if zero
	Now      func() time.Time

	mu    sync.Mutex
	held  map[int64]int64 // practice -> token
	until time.Time       // the leases in held are certainly live until then
	live  int
	share int
}

// NewInstanceID names this process among the instances sharing the database: host, process
// id and a random part, so a restarted process is a new instance.
func NewInstanceID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "herolink"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

func (l *Leases) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// A killed instance's practices wait at most TTL plus one round for another instance; a round
// is one short transaction, so renewing every 5 s costs little even at thousands of practices.
func (l *Leases) ttl() time.Duration   { return orDefault(l.TTL, 15*time.Second) }
func (l *Leases) renew() time.Duration { return orDefault(l.Renew, 5*time.Second) }

// Round renews, frees and takes leases (store.SyncLeaseRound) and returns the practices this
// instance holds now. On error it keeps what it held: those leases lapse on their own at the
// time they were last renewed to, and Fence stops answering for them then.
func (l *Leases) Round(ctx context.Context) ([]int64, error) {
	// The leases are live until the round's start plus the TTL at least: the database counts
	// the TTL from a later moment.
	start := l.now()
	r, err := l.Store.SyncLeaseRound(ctx, l.Instance, l.ttl())
	if err != nil {
		return l.Held(), err
	}
	held := make(map[int64]int64, len(r.Held))
	ids := make([]int64, 0, len(r.Held))
	for _, h := range r.Held {
		held[h.PracticeID] = h.Token
		ids = append(ids, h.PracticeID)
	}
	l.mu.Lock()
	l.held, l.until, l.live, l.share = held, start.Add(l.ttl()), r.Live, r.Share
	l.mu.Unlock()
	return ids, nil
}

// Fence is the lease a pass of this practice runs under; false when this instance does not
// hold a live one (as far as it knows: the write checks again).
func (l *Leases) Fence(practiceID int64) (store.SyncFence, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	token, ok := l.held[practiceID]
	if !ok || !l.now().Before(l.until) {
		return store.SyncFence{}, false
	}
	return store.SyncFence{Holder: l.Instance, Token: token}, true
}

// Held lists the practices this instance holds live leases of, in order.
func (l *Leases) Held() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.now().Before(l.until) {
		return nil
	}
	ids := make([]int64, 0, len(l.held))
	for id := range l.held {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Split is this instance's view of the split at its last round: the live instances and its
// share of the practices.
func (l *Leases) Split() (live, share int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live, l.share
}

// Release frees every lease this instance holds (a clean shutdown): the others take them at
// their next round instead of waiting for them to lapse.
func (l *Leases) Release(ctx context.Context) error {
	l.mu.Lock()
	l.held, l.until = nil, time.Time{}
	l.mu.Unlock()
	return l.Store.ReleaseSyncLeases(ctx, l.Instance)
}

var (
	descHeld = prometheus.NewDesc("herolink_sync_practices_held",
		"Practices whose sync lease this instance holds: the ones it syncs.", []string{"instance"}, nil)
	descLive = prometheus.NewDesc("herolink_sync_instances_live",
		"Instances sharing the database's practices, as this instance saw at its last lease round.", []string{"instance"}, nil)
)

// leaseCollector exports which share of the practices this instance syncs: a count, labelled
// with the instance id (a label per practice would be thousands of series; the admin page
// lists them).
type leaseCollector struct{ l *Leases }

func (c leaseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descHeld; ch <- descLive }

func (c leaseCollector) Collect(ch chan<- prometheus.Metric) {
	live, _ := c.l.Split()
	ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(len(c.l.Held())), c.l.Instance)
	ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(live), c.l.Instance)
}
