package booking

import (
	"context"
	"fmt"
	"sync"
	"time"

	"herolink/internal/store"
)

// catalogue is one practice's mapping as the API needs it: EMIS ids to public ids.
type catalogue struct {
	typeByEMIS     map[int]store.AppointmentType // published appointment types
	locationBySite map[int64]store.Location
	practByHolder  map[int64]store.Practitioner
	// The public ids of the same, formatted once: slot search shows them on every slot.
	typeIDByEMIS       map[int]string
	locationIDBySite   map[int64]string
	practitionerByHold map[int64]string
}

// catalogueTTL bounds how long a mapping change takes to show in the partner API. Searches
// are the API's hottest path and every query waits for SQLite's one connection, so each
// practice's mapping is read at most this often rather than three queries per request.
const catalogueTTL = 2 * time.Second

type cached[T any] struct {
	v  T
	at time.Time
}

// caches holds the catalogue and the practices of each group for catalogueTTL.
type caches struct {
	mu     sync.Mutex
	cats   map[int64]cached[*catalogue]
	groups map[string]cached[[]int64]
}

func (s *Service) catalogue(ctx context.Context, practiceID int64) (*catalogue, error) {
	now := time.Now()
	s.cache.mu.Lock()
	if c, ok := s.cache.cats[practiceID]; ok && now.Sub(c.at) < catalogueTTL {
		s.cache.mu.Unlock()
		return c.v, nil
	}
	s.cache.mu.Unlock()
	c, err := s.readCatalogue(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.cats == nil {
		s.cache.cats = map[int64]cached[*catalogue]{}
	}
	s.cache.cats[practiceID] = cached[*catalogue]{c, now}
	s.cache.mu.Unlock()
	return c, nil
}

// groupPractices lists a practice group's practices, cached like the catalogue.
func (s *Service) groupPractices(ctx context.Context, group string) ([]int64, error) {
	now := time.Now()
	s.cache.mu.Lock()
	if c, ok := s.cache.groups[group]; ok && now.Sub(c.at) < catalogueTTL {
		s.cache.mu.Unlock()
		return c.v, nil
	}
	s.cache.mu.Unlock()
	ids, err := s.Store.GroupPractices(ctx, group)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.groups == nil {
		s.cache.groups = map[string]cached[[]int64]{}
	}
	s.cache.groups[group] = cached[[]int64]{ids, now}
	s.cache.mu.Unlock()
	return ids, nil
}

func (s *Service) readCatalogue(ctx context.Context, practiceID int64) (*catalogue, error) {
	types, err := s.Store.AppointmentTypes(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	locs, err := s.Store.Locations(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	prs, err := s.Store.Practitioners(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	c := &catalogue{typeByEMIS: map[int]store.AppointmentType{}, locationBySite: map[int64]store.Location{},
		practByHolder: map[int64]store.Practitioner{}}
	c.typeIDByEMIS, c.locationIDBySite, c.practitionerByHold = map[int]string{}, map[int64]string{}, map[int64]string{}
	for _, t := range types {
		if t.Published {
			c.typeByEMIS[t.EMISSlotTypeID] = t
			c.typeIDByEMIS[t.EMISSlotTypeID] = prefixedID(prefixAppointmentType, t.ID)
		}
	}
	for _, l := range locs {
		if l.EMISSiteID != 0 {
			c.locationBySite[l.EMISSiteID] = l
			c.locationIDBySite[l.EMISSiteID] = prefixedID(prefixLocation, l.ID)
		}
	}
	for _, p := range prs {
		if p.EMISHolderID != 0 {
			c.practByHolder[p.EMISHolderID] = p
			c.practitionerByHold[p.EMISHolderID] = prefixedID(prefixPractitioner, p.ID)
		}
	}
	return c, nil
}

func (c *catalogue) practitionerIDs(holders []int64) []string {
	out := make([]string, 0, len(holders))
	for _, h := range holders {
		if id, ok := c.practitionerByHold[h]; ok {
			out = append(out, id)
		}
	}
	return out
}

func (c *catalogue) appointmentTypeID(emisType int) string {
	return c.typeIDByEMIS[emisType]
}

// AppointmentTypes lists the practice group's published appointment types.
func (s *Service) AppointmentTypes(ctx context.Context, group string) ([]AppointmentType, error) {
	practices, err := s.Store.GroupPractices(ctx, group)
	if err != nil {
		return nil, err
	}
	out := []AppointmentType{}
	for _, pid := range practices {
		types, err := s.Store.AppointmentTypes(ctx, pid)
		if err != nil {
			return nil, fmt.Errorf("booking: appointment types: %w", err)
		}
		for _, t := range types {
			if t.Published {
				out = append(out, AppointmentType{ID: prefixedID(prefixAppointmentType, t.ID), PracticeID: pid,
					Name: t.Name, DurationMinutes: t.DurationMinutes, Channel: t.Channel})
			}
		}
	}
	return out, nil
}

// Locations lists the practice group's locations that are mapped to an EMIS site: only
// those can carry slots.
func (s *Service) Locations(ctx context.Context, group string) ([]Location, error) {
	practices, err := s.Store.GroupPractices(ctx, group)
	if err != nil {
		return nil, err
	}
	out := []Location{}
	for _, pid := range practices {
		locs, err := s.Store.Locations(ctx, pid)
		if err != nil {
			return nil, fmt.Errorf("booking: locations: %w", err)
		}
		for _, l := range locs {
			if l.EMISSiteID != 0 {
				out = append(out, Location{ID: prefixedID(prefixLocation, l.ID), PracticeID: pid, Name: l.Name})
			}
		}
	}
	return out, nil
}

// Practitioners lists the practice group's practitioners mapped to an EMIS session holder.
func (s *Service) Practitioners(ctx context.Context, group string) ([]Practitioner, error) {
	practices, err := s.Store.GroupPractices(ctx, group)
	if err != nil {
		return nil, err
	}
	out := []Practitioner{}
	for _, pid := range practices {
		prs, err := s.Store.Practitioners(ctx, pid)
		if err != nil {
			return nil, fmt.Errorf("booking: practitioners: %w", err)
		}
		for _, p := range prs {
			if p.EMISHolderID != 0 {
				out = append(out, Practitioner{ID: prefixedID(prefixPractitioner, p.ID), PracticeID: pid, Name: p.Name})
			}
		}
	}
	return out, nil
}
