package booking

import (
	"context"
	"fmt"

	"herolink/internal/store"
)

// catalogue is one practice's mapping as the API needs it: EMIS ids to public ids.
type catalogue struct {
	typeByEMIS     map[int]store.AppointmentType // published appointment types
	locationBySite map[int64]store.Location
	practByHolder  map[int64]store.Practitioner
}

func (s *Service) catalogue(ctx context.Context, practiceID int64) (*catalogue, error) {
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
	for _, t := range types {
		if t.Published {
			c.typeByEMIS[t.EMISSlotTypeID] = t
		}
	}
	for _, l := range locs {
		if l.EMISSiteID != 0 {
			c.locationBySite[l.EMISSiteID] = l
		}
	}
	for _, p := range prs {
		if p.EMISHolderID != 0 {
			c.practByHolder[p.EMISHolderID] = p
		}
	}
	return c, nil
}

func (c *catalogue) practitionerIDs(holders []int64) []string {
	out := []string{}
	for _, h := range holders {
		if p, ok := c.practByHolder[h]; ok {
			out = append(out, prefixedID(prefixPractitioner, p.ID))
		}
	}
	return out
}

func (c *catalogue) appointmentTypeID(emisType int) string {
	if t, ok := c.typeByEMIS[emisType]; ok {
		return prefixedID(prefixAppointmentType, t.ID)
	}
	return ""
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
