// Package apitest checks answers of the partner API against its OpenAPI document, for the
// tests of any package that drives the API (the API's own, the app's end-to-end tests).
package apitest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"herolink/internal/api"
)

// Spec is the OpenAPI 3.1 document, loaded and validated by kin-openapi once.
var Spec = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	return doc, nil
})

var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// Exchange is one request and its answer.
type Exchange struct {
	Method, Path, RequestBody string // Path with its query string
	Status                    int
	Header                    http.Header
	Body                      []byte
}

// Check fails the test unless the answer is what the document says: a status documented for
// the operation, headers and body matching their schemas (JSON Schema 2020-12, as OpenAPI 3.1
// has it), every error an application/problem+json whose status is the HTTP status, and for an
// answer below 300 a request the document accepts too. Unknown routes and wrong methods must
// answer a Problem.
func Check(t testing.TB, x Exchange) {
	t.Helper()
	doc, err := Spec()
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	rt, err := router()
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	if x.Status >= 400 {
		if ct := x.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: error %d answered as %q, not problem+json:\n%s", x.Method, x.Path, x.Status, ct, x.Body)
		}
		var p struct {
			Status int `json:"status"`
		}
		if err := json.Unmarshal(x.Body, &p); err != nil || p.Status != x.Status {
			t.Fatalf("%s %s: problem status %d for HTTP %d (%v)", x.Method, x.Path, p.Status, x.Status, err)
		}
	}
	vr := httptest.NewRequest(x.Method, x.Path, strings.NewReader(x.RequestBody))
	vr.Header.Set("Content-Type", "application/json")
	route, params, err := rt.FindRoute(vr)
	if err == nil {
		answered(route.Method+" "+route.Path, x.Status)
	} else if x.Status == http.StatusMethodNotAllowed {
		answeredWrongMethod(rt, vr)
	}
	if err != nil {
		if x.Status != http.StatusNotFound && x.Status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: not in the OpenAPI document (%v) yet answered %d", x.Method, x.Path, err, x.Status)
		}
		var v any
		_ = json.Unmarshal(x.Body, &v)
		if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Fatalf("%s %s: the answer is not a Problem: %v\n%s", x.Method, x.Path, err, x.Body)
		}
		return
	}
	input := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if x.Status < 300 {
		// What the API accepted, the document must accept too.
		vr.Header.Set("x-api-key", "k")
		vr.Header.Set("x-practice-group-id", "g")
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			t.Fatalf("%s %s: the API accepted a request the OpenAPI document refuses: %v", x.Method, x.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: x.Status, Header: x.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s: the answer %d does not match the OpenAPI document: %v\n%s", x.Method, x.Path, x.Status, err, x.Body)
	}
}

// seen is every operation's answers Check has been shown in this test binary, by status.
var seen = struct {
	sync.Mutex
	m map[string]map[int]bool // "GET /v1/slots/{id}" -> statuses
}{m: map[string]map[int]bool{}}

func answered(op string, status int) {
	seen.Lock()
	defer seen.Unlock()
	if seen.m[op] == nil {
		seen.m[op] = map[int]bool{}
	}
	seen.m[op][status] = true
}

// answeredWrongMethod records a 405 for every operation of the path the request named: the
// document declares "this path refuses other methods" on the operations it has.
func answeredWrongMethod(rt routers.Router, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		try := r.Clone(r.Context())
		try.Method = m
		if route, _, err := rt.FindRoute(try); err == nil {
			answered(route.Method+" "+route.Path, http.StatusMethodNotAllowed)
		}
	}
}

// Unanswered lists, as "GET /v1/slots 409", every answer the document declares that no
// exchange given to Check has shown. A test binary that drives every operation calls it when
// all its tests passed: an answer declared but never given is a promise a contract tester
// will find broken (or a test missing).
func Unanswered() ([]string, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	seen.Lock()
	defer seen.Unlock()
	var out []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					continue // "default" or a range: nothing to promise
				}
				if !seen.m[method+" "+path][status] {
					out = append(out, method+" "+path+" "+code)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
