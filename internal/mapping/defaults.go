package mapping

import (
	"context"
	"fmt"

	"herolink/internal/emis"
)

// AdoptDefaults does what a practice's staff do first on the mapping pages: import
// practitioners and locations from EMIS, make every type EMIS marks Bookable bookable
// online, choose the "Hero unregistered patient" type for placeholders and leave the rest
// not bookable. Types staff have already reviewed keep their feature. The demo, the
// benchmarks and end-to-end tests use it.
func (s *Service) AdoptDefaults(ctx context.Context, who string, practiceID int64) error {
	if _, err := s.ImportFromEMIS(ctx, who, practiceID); err != nil {
		return fmt.Errorf("mapping: adopt defaults for practice %d: %w", practiceID, err)
	}
	types, err := s.Store.EMISSlotTypes(ctx, practiceID)
	if err != nil {
		return err
	}
	wire := make([]emis.SlotType, len(types))
	for i, t := range types {
		wire[i] = emis.SlotType{TypeID: t.EMISID, Description: t.Name, Bookable: t.EMISBookable}
	}
	unreg, _ := emis.FindUnregisteredSlotType(wire)
	for _, t := range types {
		if t.Feature != "unset" || t.Gone {
			continue
		}
		feature := "not_bookable"
		switch {
		case unreg != nil && t.EMISID == unreg.TypeID:
			feature = "unregistered"
		case t.EMISBookable:
			feature = "bookable"
		}
		if _, err := s.SetFeature(ctx, who, practiceID, t.EMISID, feature); err != nil {
			return fmt.Errorf("mapping: adopt defaults for practice %d, slot type %d: %w", practiceID, t.EMISID, err)
		}
	}
	return nil
}
