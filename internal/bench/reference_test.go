package bench

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The burst's floor, the search's ceiling and the machine reference are all set against the
// same handler that does nothing but answer.
func TestTheTrivialHandlerAnswersWhatItIsToldAndItsCeilingCountsCPU(t *testing.T) {
	base, stop, err := serveTrivial(http.StatusCreated, `{"id":"apt_0"}`)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/v1/holds", "application/json", strings.NewReader(`{"slot_id":"slt_0"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stop()
	if resp.StatusCode != http.StatusCreated || string(body) != `{"id":"apt_0"}` {
		t.Errorf("answered %d %s, want 201 {\"id\":\"apt_0\"}", resp.StatusCode, body)
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("the handler still answers after stop")
	}

	phase, cpu, err := trivialCeiling(t.Context(), 4, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if phase.Calls == 0 || phase.Errors != 0 || phase.PerSecond() <= 0 {
		t.Errorf("ceiling phase %+v: want answered calls and no errors", phase)
	}
	if cpu <= 0 {
		t.Errorf("CPU per request %v µs, want the process's CPU divided among the requests", cpu)
	}
}
