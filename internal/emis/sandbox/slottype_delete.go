package sandbox

import "fmt"

// deletedSlotTypeFloor keys, in NextIDs, the highest slot type id ever deleted: a new slot type
// never takes it, or slots of the deleted type would silently become the new one.
const deletedSlotTypeFloor = "slot_type_deleted"

// DeleteSlotType removes a slot type from Appts config, as practice staff can at any time
// after herolink connects. Slots already of that type keep its id (EMIS keeps history); new
// writes naming it answer "not found".
func (o *Org) DeleteSlotType(id int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, t := range o.SlotTypes {
		if t.ID == id {
			o.SlotTypes = append(o.SlotTypes[:i:i], o.SlotTypes[i+1:]...)
			if o.NextIDs == nil {
				o.NextIDs = map[string]int64{}
			}
			o.NextIDs[deletedSlotTypeFloor] = max(o.NextIDs[deletedSlotTypeFloor], int64(id))
			o.touch()
			return nil
		}
	}
	return fmt.Errorf("slot type %d: %w", id, ErrNotFound)
}
