package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/store"
)

func TestReadinessJSONSaysNotReadyWithTheReasonWhenTheUnregisteredSlotTypeIsMadeUnbookableInEMIS(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	maps := &mapping.Service{Store: b.store, Conns: b.service}
	if err := maps.AdoptDefaults(ctx, "setup", id); err != nil {
		t.Fatal(err)
	}
	unreg, _ := b.store.UnregisteredSlotTypeID(ctx, id)
	no := false
	if _, err := b.demo.EditSlotType(unreg, sandbox.SlotTypeInput{Bookable: &no}); err != nil {
		t.Fatal(err)
	}
	if u, err := b.service.CheckHealth(ctx, id); err != nil || u.Status != store.HealthFailing {
		t.Fatalf("health: %+v, %v", u, err)
	}
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	r := c.call(http.MethodGet, mapPath(id, "/readiness"), nil).want(t, http.StatusOK, "")
	reasons, _ := r.body["reasons"].([]any)
	if r.body["ready"] != false || len(reasons) == 0 {
		t.Fatalf("readiness: %s", r.raw)
	}
	found := false
	for _, x := range reasons {
		m := x.(map[string]any)
		if m["code"] == "" || m["message"] == "" || m["fix"] == "" {
			t.Fatalf("a reason without code, message or fix: %v", m)
		}
		if m["code"] == mapping.CodeUnregisteredNotBookable {
			found = strings.Contains(m["fix"].(string), "Appts config") && strings.Contains(m["fix"].(string), "tick Bookable")
		}
	}
	if !found {
		t.Fatalf("no reason %s with the guide's fix: %s", mapping.CodeUnregisteredNotBookable, r.raw)
	}
	if _, ok := r.body["warnings"].([]any); !ok {
		t.Fatalf("warnings is not a list: %s", r.raw)
	}
}

func TestThePracticePageWarnsOfTheEMISUsersContractEndDateWithTheDaysLeft(t *testing.T) {
	t.Parallel()
	b := setup(t)
	end := b.world.Today().AddDays(9).String()
	if _, err := b.demo.EditUser("Herouser", sandbox.UserInput{ContractEnd: &end}); err != nil {
		t.Fatal(err)
	}
	id := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	mustSay(t, c.get(practicePath(id)), "contract end date of "+end, "9 days left", "clear the Contract end date")
}
