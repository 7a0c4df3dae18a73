// Package apitest checks answers of the partner API against its OpenAPI document, for the
// tests of any package that drives the API (the API's own, the app's end-to-end tests).
package apitest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
