package api_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/store"
)

func idem(r req, key string) req {
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header["Idempotency-Key"] = key
	return r
}

func TestARetryWithTheSameIdempotencyKeyAndBodyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "9b3c8c5e-1")
	first := b.send(t, r)
	if first.status != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("%d %v", first.status, first.header)
	}
	// Whitespace does not make a body different.
	r.body = "{ \"slot_id\": \"" + b.slotOf(b.groupA) + "\" }\n"
	again := b.send(t, r)
	if again.status != http.StatusCreated || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Content-Type") != "application/json" {
		t.Fatalf("replay %d %v\n%s", again.status, again.header, again.body)
	}
	if n := b.booking.count("Reserve"); n != 1 {
		t.Fatalf("reserved %d times", n)
	}
	// Refusals below 500 are kept too: a retry does not suddenly succeed or change anything.
	rb := idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "second")
	mustProblem(t, b.send(t, rb), http.StatusConflict, "slot_unavailable")
	res := b.send(t, rb)
	mustProblem(t, res, http.StatusConflict, "slot_unavailable")
	if res.header.Get("Idempotent-Replayed") != "true" || b.booking.count("Reserve") != 2 {
		t.Fatalf("the refusal was not replayed: %v", res.header)
	}
}

func TestAnIdempotencyKeyReusedForAnotherRequestIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slots := b.booking.slots[b.groupA]
	if res := b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + slots[0].ID + `"}`}, "k1")); res.status != http.StatusCreated {
		t.Fatalf("%d", res.status)
	}
	mustProblem(t, b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + slots[1].ID + `"}`}, "k1")),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	mustProblem(t, b.send(t, idem(req{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"D","date_of_birth":"1950-01-01"}`}, "k1")),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	if n := b.booking.count("Reserve"); n != 1 {
		t.Fatalf("reserved %d times", n)
	}
}

func TestIdempotencyKeysAreScopedToTheAPIKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slots := b.booking.slots[b.groupA]
	b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + slots[0].ID + `"}`}, "shared"))
	res := b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + slots[1].ID + `"}`,
		header: map[string]string{"x-api-key": b.keyA2}}, "shared"))
	if res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another key's request was treated as a retry: %d %s", res.status, res.body)
	}
}

func TestARetryWhileTheFirstRequestIsInFlightIsToldToWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.booking.hook = func(method string) {
		if method == "Reserve" {
			once.Do(func() { close(entered) })
			<-release
		}
	}
	r := idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "slow")
	var wg sync.WaitGroup
	var first response
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = b.send(t, r)
	}()
	<-entered
	res := b.send(t, r)
	mustProblem(t, res, http.StatusConflict, "idempotency_in_progress")
	if res.header.Get("Retry-After") == "" {
		t.Fatalf("%v", res.header)
	}
	close(release)
	wg.Wait()
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	if again := b.send(t, r); again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after the first finished: %d %v", again.status, again.header)
	}
}

func TestAServerErrorIsNotKeptSoTheSameKeyCanBeRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "retry-me")
	b.booking.failNext("Reserve", errBoom)
	mustProblem(t, b.send(t, r), http.StatusInternalServerError, "internal_error")
	if res := b.send(t, r); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("%d %v", res.status, res.header)
	}
}

func TestAFirstRequestThatNeverFinishedCanBeTakenOverAfterItsLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	now := time.Now()
	b.store.SetClock(func() time.Time { return now })
	// A claim left by a process that died mid-request.
	if _, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "orphan", "x", time.Minute, 24*time.Hour); err != nil || !started {
		t.Fatal(started, err)
	}
	// During its lease a retry finds it in progress; after it, the retry takes it over.
	rec, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "orphan", "x", time.Minute, 24*time.Hour)
	if err != nil || started || rec.Status != 0 {
		t.Fatalf("during the lease: %+v %v %v", rec, started, err)
	}
	now = now.Add(61 * time.Second)
	if _, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "orphan", "x", time.Minute, 24*time.Hour); err != nil || !started {
		t.Fatalf("after the lease: %v %v", started, err)
	}
	// Kept answers are forgotten after a day.
	if err := b.store.FinishIdempotent(ctx, b.keyAID, "orphan", 201, map[string]string{}, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24*time.Hour + time.Second)
	if _, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "orphan", "y", time.Minute, 24*time.Hour); err != nil || !started {
		t.Fatalf("after a day: %v %v", started, err)
	}
}

func TestIdempotencyKeysMustBePrintableAndShort(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, k := range []string{strings.Repeat("k", 256), "tab\there", "é"} {
		mustProblem(t, b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"x"}`}, k)),
			http.StatusBadRequest, "invalid_idempotency_key")
	}
	if b.booking.count("Reserve") != 0 {
		t.Fatal("reserved with an invalid key")
	}
}

func TestEveryPostHonoursIdempotencyKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	pat := b.register(t)
	for _, r := range []req{
		{method: "POST", path: "/v1/appointments/" + id + "/book", body: `{"patient_id":"` + pat + `"}`},
		{method: "POST", path: "/v1/appointments/" + id + "/reschedule", body: `{"slot_id":"` + b.booking.slots[b.groupA][2].ID + `"}`},
		{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Derek","date_of_birth":"1951-02-02"}`},
	} {
		r = idem(r, "once:"+r.path)
		first := b.send(t, r)
		again := b.send(t, r)
		if first.status >= 300 || again.status != first.status || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: %d then %d %v", r.path, first.status, again.status, again.header)
		}
	}
	for _, m := range []string{"Book", "Reschedule"} {
		if n := b.booking.count(m); n != 1 {
			t.Fatalf("%s ran %d times", m, n)
		}
	}
}

// A first request slower than its lease is taken over by its retry; once one of them commits
// its operation with the key, the other's commit is refused (and rolls back), and the key is
// never forgotten: later retries are answered from what the first commit made.
func TestOnlyOneRequestWithAnIdempotencyKeyCanCommitItsOperation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	now := time.Now()
	b.store.SetClock(func() time.Time { return now })
	mark := func(ref string) error {
		return b.store.InTx(ctx, func(tx *store.Tx) error { return b.store.MarkIdempotentTx(ctx, tx, b.keyAID, "slow", "h", ref) })
	}
	if _, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "slow", "h", time.Minute, 24*time.Hour); err != nil || !started {
		t.Fatal(started, err)
	}
	now = now.Add(61 * time.Second)
	if _, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "slow", "h", time.Minute, 24*time.Hour); err != nil || !started {
		t.Fatalf("the retry did not take over: %v %v", started, err)
	}
	if err := mark("apt_retry"); err != nil {
		t.Fatal(err)
	}
	if err := mark("apt_first"); !errors.Is(err, store.ErrIdempotencyClaimLost) {
		t.Fatalf("the overtaken first request committed too: %v", err)
	}
	// A server error after the commit does not free the key.
	if err := b.store.AbandonIdempotent(ctx, b.keyAID, "slow"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	rec, started, err := b.store.BeginIdempotent(ctx, b.keyAID, "slow", "h", time.Minute, 24*time.Hour)
	if err != nil || started || rec.Ref != "apt_retry" || rec.Status != 0 {
		t.Fatalf("later: %+v started %v, %v", rec, started, err)
	}
}

// practice_unavailable says "try again later": the practice's connection is failing for a while.
// A retry of the same request with the same Idempotency-Key once the practice is fixed must run
// again, not replay the refusal for the key's 24 hours (nothing was made: there is nothing to
// keep exactly once).
func TestAHoldRefusedWhileThePracticeCannotTakeBookingsCanBeRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "when-fixed")
	b.booking.failNext("Reserve", refuse(booking.CodePracticeUnavailable, "the practice cannot take online bookings just now; try again later"))
	mustProblem(t, b.send(t, r), http.StatusConflict, "practice_unavailable")
	if res := b.send(t, r); res.status != http.StatusCreated || res.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry after the practice was fixed answered %d %v\n%s", res.status, res.header, res.body)
	}
}
