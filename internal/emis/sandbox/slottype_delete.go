package sandbox

import "fmt"

// DeleteSlotType removes a slot type from Appts config, as practice staff can at any time
// after herolink connects. Slots already of that type keep its id (EMIS keeps history); new
// writes naming it answer "not found".
func (o *Org) DeleteSlotType(id int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, t := range o.SlotTypes {
		if t.ID == id {
			o.SlotTypes = append(o.SlotTypes[:i:i], o.SlotTypes[i+1:]...)
			o.touch()
			return nil
		}
	}
	return fmt.Errorf("slot type %d: %w", id, ErrNotFound)
}
