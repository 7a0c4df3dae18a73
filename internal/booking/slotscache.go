package booking

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Slot search answers are kept, encoded, until something that could change them happens:
// many patients and partner tools ask the same question of the same practices, and building
// and encoding a hundred slots cost more than everything else in a search. An answer is
// reused only while the practices' change counters (which every instance's writes bump, in
// the database) are those it was built under, the practices' catalogues are the ones it used,
// and the clock is before its first slot starts or before a hold it passed over runs out.

// slotAnswersMax bounds the answers kept; beyond it one is dropped at random.
const slotAnswersMax = 1024

type slotAnswer struct {
	practices []int64
	counters  []int64
	cats      []*catalogue
	until     time.Time
	body      []byte
}

type slotAnswers struct {
	mu sync.Mutex
	m  map[string]*slotAnswer
}

func (a *slotAnswers) get(key string) *slotAnswer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[key]
}

func (a *slotAnswers) put(key string, e *slotAnswer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]*slotAnswer{}
	}
	if _, ok := a.m[key]; !ok && len(a.m) >= slotAnswersMax {
		for k := range a.m { // a random entry: map order is
			delete(a.m, k)
			break
		}
	}
	a.m[key] = e
}

// SlotsEncoded is Slots encoded by encode, answered from a kept answer while it is still
// true (see above).
func (s *Service) SlotsEncoded(ctx context.Context, group string, q SlotQuery, encode func(SlotPage) []byte) ([]byte, error) {
	fq, practices, empty, err := s.slotQuery(ctx, group, &q)
	if err != nil {
		return nil, err
	}
	if empty {
		return encode(SlotPage{Slots: []Slot{}}), nil
	}
	key := group + "|" + q.From.Format(time.DateOnly) + "|" + q.To.Format(time.DateOnly) + "|" + q.LocationID + "|" +
		q.PractitionerID + "|" + q.AppointmentTypeID + "|" + strconv.Itoa(q.Limit) + "|" + q.Cursor
	cats := make([]*catalogue, len(practices))
	for i, pid := range practices {
		if cats[i], err = s.catalogue(ctx, pid); err != nil {
			return nil, err
		}
	}
	if e := s.answers.get(key); e != nil && slices.Equal(e.practices, practices) && slices.Equal(e.cats, cats) && fq.Now.Before(e.until) {
		counters, err := s.Store.SlotCounters(ctx, practices)
		if err != nil {
			return nil, err
		}
		if slices.Equal(counters, e.counters) {
			return e.body, nil
		}
	}
	rows, fresh, err := s.Store.FreeSlotsFresh(ctx, fq)
	if err != nil {
		return nil, err
	}
	page, err := s.pageOf(ctx, rows, q.Limit)
	if err != nil {
		return nil, err
	}
	body := encode(page)
	if fresh.Counters != nil {
		s.answers.put(key, &slotAnswer{practices: practices, counters: fresh.Counters, cats: cats, until: fresh.Until, body: body})
	}
	return body, nil
}
