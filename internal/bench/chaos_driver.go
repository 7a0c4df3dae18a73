package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"herolink/internal/emis/sandbox"
)

// chaosDriver is the partner: it holds, confirms, cancels and reschedules through whichever
// instance is up, retrying a request that got no definite answer on another instance with the
// same Idempotency-Key, as a careful partner would. It remembers every appointment herolink
// told it about.
type chaosDriver struct {
	instances []*chaosProc
	clients   []*apiClient // one per instance, same key
	slots     []string
	next      atomic.Int64
	patients  []sandbox.Patient
	retryFor  time.Duration // how long one request is retried before the partner gives up

	rngMu sync.Mutex
	rng   *rand.Rand

	mu      sync.Mutex
	apps    map[string]*chaosBooking
	order   []string             // ids in the order learnt
	acked   []string             // acknowledged ids, for cancels and reschedules
	pending map[string]time.Time // acknowledged, not yet seen final: id -> acknowledged at
	finalAt map[string]time.Time // first seen final

	requests, gaveUp atomic.Int64
}

func newChaosDriver(instances []*chaosProc, key, group string, slots []string, patients []sandbox.Patient, seed uint64) *chaosDriver {
	d := &chaosDriver{instances: instances, slots: slots, patients: patients, retryFor: 90 * time.Second,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), apps: map[string]*chaosBooking{},
		pending: map[string]time.Time{}, finalAt: map[string]time.Time{}}
	for _, p := range instances {
		d.clients = append(d.clients, newAPIClient(p.url(), key, group, 32))
	}
	return d
}

func (d *chaosDriver) intN(n int) int {
	d.rngMu.Lock()
	defer d.rngMu.Unlock()
	return d.rng.IntN(n)
}

func (d *chaosDriver) float() float64 {
	d.rngMu.Lock()
	defer d.rngMu.Unlock()
	return d.rng.Float64()
}

// pick chooses an instance that is up, at random; any one if all are down (the request then
// fails and is retried).
func (d *chaosDriver) pick() *apiClient {
	start := d.intN(len(d.instances))
	for i := range d.instances {
		j := (start + i) % len(d.instances)
		if d.instances[j].alive() {
			return d.clients[j]
		}
	}
	return d.clients[start]
}

// call sends one partner request until it gets a definite answer: a connection error, a 5xx,
// a 429 or an idempotency key still being answered (its instance died mid-request) is retried
// on another instance after a pause, with the same key, for up to retryFor.
func (d *chaosDriver) call(ctx context.Context, method, path string, body any, idemKey string) (int, []byte, error) {
	var h http.Header
	if idemKey != "" {
		h = http.Header{"Idempotency-Key": {idemKey}}
	}
	deadline := time.Now().Add(d.retryFor)
	for {
		d.requests.Add(1)
		status, data, err := d.pick().do(ctx, method, path, body, h)
		retry := err != nil || status >= 500 || status == http.StatusTooManyRequests ||
			(status == http.StatusConflict && bytes.Contains(data, []byte("idempotency_in_progress")))
		if !retry {
			return status, data, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			d.gaveUp.Add(1)
			if err == nil {
				err = errors.New("HTTP " + strconv.Itoa(status))
			}
			return status, data, err
		}
		if err := sleepCtx(ctx, time.Duration(200+d.intN(800))*time.Millisecond); err != nil {
			return 0, nil, err
		}
	}
}

// learn records an appointment from an answer.
func (d *chaosDriver) learn(body []byte, acked bool) string {
	var a struct {
		ID, Reference, State string
	}
	if json.Unmarshal(body, &a) != nil || a.ID == "" {
		return ""
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.apps[a.ID]
	if !ok {
		b = &chaosBooking{ID: a.ID, Reference: a.Reference}
		d.apps[a.ID] = b
		d.order = append(d.order, a.ID)
	}
	b.State = a.State
	if acked && !b.Acked {
		b.Acked = true
		d.acked = append(d.acked, a.ID)
		if a.State == "confirming" {
			d.pending[a.ID] = now
		} else {
			d.finalAt[a.ID] = now
		}
	}
	return a.ID
}

// steady runs operations at rate per second until ctx ends, at most 16 at once.
func (d *chaosDriver) steady(ctx context.Context, rate float64) { atRate(ctx, rate, 16, d.operate) }

// operate books a new slot (one in five for a patient EMIS does not know: a placeholder), and
// sometimes cancels or reschedules an earlier booking.
func (d *chaosDriver) operate(ctx context.Context) {
	d.book(ctx)
	switch r := d.float(); {
	case r < 0.10:
		if id := d.earlier(0); id != "" {
			_, _, _ = d.call(ctx, http.MethodPatch, "/v1/appointments/"+id+"/cancel", map[string]any{"reason": "bench chaos"}, "")
		}
	case r < 0.20:
		d.reschedule(ctx)
	}
}

func (d *chaosDriver) nextSlot() (int, string) {
	i := int(d.next.Add(1)) - 1
	if i >= len(d.slots) {
		return i, ""
	}
	return i, d.slots[i]
}

func (d *chaosDriver) book(ctx context.Context) {
	i, slot := d.nextSlot()
	if slot == "" {
		return
	}
	status, body, err := d.call(ctx, http.MethodPost, "/v1/appointments", map[string]any{"slot_id": slot}, "hold-"+strconv.Itoa(i))
	if err != nil || status != http.StatusCreated {
		return
	}
	id := d.learn(body, false)
	if id == "" {
		return
	}
	p := d.patients[i%len(d.patients)]
	patient := map[string]any{"family_name": p.FamilyName, "given_name": firstWord(p.FirstNames), "date_of_birth": p.DateOfBirth}
	if p.NHSNumber != "" {
		patient["nhs_number"] = p.NHSNumber
	}
	if d.intN(5) == 0 {
		patient = map[string]any{"family_name": "Visitor" + strconv.Itoa(i), "given_name": "Sam", "date_of_birth": "1990-06-15"}
	}
	status, body, err = d.call(ctx, http.MethodPost, "/v1/appointments/"+id+"/book", map[string]any{"patient": patient}, "book-"+strconv.Itoa(i))
	if err == nil && status == http.StatusAccepted {
		d.learn(body, true)
	}
}

// earlier picks an acknowledged booking at least minAge old, "" if none.
func (d *chaosDriver) earlier(minAge time.Duration) string {
	d.mu.Lock()
	n := len(d.acked)
	d.mu.Unlock()
	if n == 0 {
		return ""
	}
	j := d.intN(n)
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.acked[j]
	if at, ok := d.finalAt[id]; minAge > 0 && (!ok || time.Since(at) < minAge) {
		return ""
	}
	return id
}

// reschedule moves an earlier booking that has reached EMIS to a new slot; herolink refuses
// one still being written (409), which the partner takes as an answer.
func (d *chaosDriver) reschedule(ctx context.Context) {
	id := d.earlier(time.Second)
	if id == "" {
		return
	}
	i, slot := d.nextSlot()
	if slot == "" {
		return
	}
	status, body, err := d.call(ctx, http.MethodPost, "/v1/appointments/"+id+"/reschedule", map[string]any{"slot_id": slot}, "move-"+strconv.Itoa(i))
	if err == nil && status == http.StatusAccepted {
		d.learn(body, true)
	}
}

// watch polls the acknowledged bookings not yet seen final, every interval until ctx ends,
// and records when each was first seen final.
func (d *chaosDriver) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		ids := make([]string, 0, len(d.pending))
		for id := range d.pending {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		_ = parallel(ctx, 8, len(ids), func(k int) error {
			status, body, err := d.pick().do(ctx, http.MethodGet, "/v1/appointments/"+ids[k], nil, nil)
			if err != nil || status != http.StatusOK {
				return nil // down: next round
			}
			if s := str(body, "state"); s != "" && s != "confirming" {
				now := time.Now()
				d.mu.Lock()
				delete(d.pending, ids[k])
				if _, ok := d.finalAt[ids[k]]; !ok {
					d.finalAt[ids[k]] = now
				}
				d.mu.Unlock()
			}
			return nil
		})
	}
}

// pendingIDs are the acknowledged bookings not yet seen final.
func (d *chaosDriver) pendingIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.pending))
	for id := range d.pending {
		out = append(out, id)
	}
	return out
}

// finalTime is when a booking was first seen final.
func (d *chaosDriver) finalTime(id string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.finalAt[id]
	return t, ok
}

// refresh reads every appointment learnt, and the new appointments that reschedules made
// (rescheduled_to) even when their answer was lost, and returns them as herolink answers now.
func (d *chaosDriver) refresh(ctx context.Context) ([]chaosBooking, error) {
	d.mu.Lock()
	ids := append([]string(nil), d.order...)
	d.mu.Unlock()
	seen := map[string]bool{}
	var mu sync.Mutex
	var out []chaosBooking
	for len(ids) > 0 {
		var more []string
		err := parallel(ctx, 8, len(ids), func(k int) error {
			id := ids[k]
			status, body, err := d.call(ctx, http.MethodGet, "/v1/appointments/"+id, nil, "")
			if err != nil {
				return err
			}
			var a struct {
				ID, Reference, State string
				RescheduledTo        *string `json:"rescheduled_to"`
			}
			if status == http.StatusOK {
				_ = json.Unmarshal(body, &a)
			}
			d.mu.Lock()
			b, ok := d.apps[id]
			if !ok {
				b = &chaosBooking{ID: id, Reference: a.Reference}
				d.apps[id] = b
				d.order = append(d.order, id)
			}
			b.State = a.State // "" when herolink answers 404
			if a.Reference != "" {
				b.Reference = a.Reference
			}
			cp := *b
			d.mu.Unlock()
			mu.Lock()
			defer mu.Unlock()
			seen[id] = true
			out = append(out, cp)
			if a.RescheduledTo != nil && *a.RescheduledTo != "" && !seen[*a.RescheduledTo] {
				more = append(more, *a.RescheduledTo)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		ids = ids[:0]
		for _, id := range more {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		// ids of the first round are already in out; only new ones go round again.
		var fresh []string
		d.mu.Lock()
		for _, id := range ids {
			if _, ok := d.apps[id]; !ok {
				fresh = append(fresh, id)
			}
		}
		d.mu.Unlock()
		ids = fresh
	}
	return out, nil
}
