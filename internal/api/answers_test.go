package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every operation of the document gives the answers of the gate and of a request's shape that
// it declares, produced from the document alone: so an operation added to the document has its
// declared 401, 403, 404, 400, 413, 415, 409 and 500 shown without a test naming it (TestMain
// fails a full run if any declared answer was never given), and every operation declares the
// answers any of them can give.
func TestEveryOperationGivesTheGateAndShapeAnswersItDeclares(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	ctx := context.Background()
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		responses, _ := o.op["responses"].(docNode)
		declares := func(status int) bool { _, ok := responses[strconv.Itoa(status)]; return ok }
		must := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusInternalServerError}
		_, hasBody := o.jsonBody(doc)
		if hasBody {
			must = append(must, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
		}
		for _, status := range must {
			if !declares(status) {
				t.Errorf("%s does not declare %d, which it can answer", o, status)
			}
		}
		r := o.request(t, doc, false)
		expect := func(status int, code string, r req) {
			t.Helper()
			before := b.booking.total()
			res := b.send(t, r)
			if res.status != status {
				t.Fatalf("%s (%s): %d, want %d:\n%s", o, r.path, res.status, status, res.body)
			}
			mustProblem(t, res, status, code)
			if b.booking.total() != before {
				t.Fatalf("%s answered %d but reached the booking core", o, status)
			}
		}
		expect(http.StatusUnauthorized, "missing_credentials", with(r, map[string]string{"x-api-key": ""}))
		expect(http.StatusUnauthorized, "invalid_api_key", with(r, map[string]string{"x-api-key": "hlk_live_" + strings.Repeat("0", 43)}))
		expect(http.StatusForbidden, "practice_group_forbidden", with(r, map[string]string{"x-api-key": b.keyB}))
		expect(http.StatusForbidden, "insufficient_scope", with(r, map[string]string{"x-api-key": b.keyNoScope}))
		for _, p := range o.params {
			if p["in"] == "path" {
				long := r
				long.path = strings.Replace(r.path, "/"+mustExample(t, doc, p).(string), "/"+strings.Repeat("a", 101), 1)
				expect(http.StatusNotFound, "not_found", long)
			}
		}
		if hasBody {
			bad := r
			bad.body = `{"unfinished":`
			expect(http.StatusBadRequest, "invalid_json", bad)
			bad.body = `{"x":"` + strings.Repeat("a", 70<<10) + `"}`
			expect(http.StatusRequestEntityTooLarge, "request_too_large", bad)
		}
		if o.method == http.MethodPost && declares(http.StatusConflict) {
			// A request whose Idempotency-Key is still being answered (begun, not finished).
			key := "in flight " + o.String()
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(r.body)); err != nil {
				t.Fatal(err)
			}
			path, _, _ := strings.Cut(r.path, "?")
			h := sha256.Sum256([]byte(r.method + " " + path + "\n" + compact.String()))
			if _, _, err := b.store.BeginIdempotent(ctx, b.keyAID, key, hex.EncodeToString(h[:]), time.Hour, time.Hour); err != nil {
				t.Fatal(err)
			}
			res := b.send(t, with(r, map[string]string{"Idempotency-Key": key}))
			mustProblem(t, res, http.StatusConflict, "idempotency_in_progress")
			if res.header.Get("Retry-After") == "" {
				t.Fatalf("%s: 409 idempotency_in_progress without Retry-After", o)
			}
		}
	}

	// herolink failing inside (here its database gone) is a 500 problem on every operation,
	// saying nothing of why.
	broken := setup(t)
	broken.store.Close()
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		m := mustProblem(t, broken.send(t, o.request(t, doc, false)), http.StatusInternalServerError, "internal_error")
		if strings.Contains(strings.ToLower(m["detail"].(string)), "database") {
			t.Fatalf("%s: the 500 says why: %v", o, m["detail"])
		}
	}
}
