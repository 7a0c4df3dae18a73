package sandbox_test

import (
	"strconv"
	"testing"

	"herolink/internal/emis/sandbox"
)

func TestADeletedSlotTypeIsGoneFromAppsConfigAndItsIdIsNeverReused(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1, Preconfigured: true})
	types := mustDecode[[]sandbox.SlotType](t, b.mustAdmin(t, 200, "GET", demoOrg+"/slot-types", nil))
	last := types[len(types)-1]
	b.mustAdmin(t, 204, "DELETE", demoOrg+"/slot-types/"+strconv.Itoa(last.ID), nil)
	b.mustAdmin(t, 404, "DELETE", demoOrg+"/slot-types/"+strconv.Itoa(last.ID), nil)
	after := mustDecode[[]sandbox.SlotType](t, b.mustAdmin(t, 200, "GET", demoOrg+"/slot-types", nil))
	if len(after) != len(types)-1 {
		t.Fatalf("after delete: %d slot types, want %d", len(after), len(types)-1)
	}
	added := mustDecode[sandbox.SlotType](t, b.mustAdmin(t, 201, "POST", demoOrg+"/slot-types", map[string]any{"name": last.Name}))
	if added.ID <= last.ID {
		t.Fatalf("the new slot type took id %d; the deleted one had %d", added.ID, last.ID)
	}
}
