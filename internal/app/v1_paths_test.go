package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
)

// Through the whole app, GET /v1 and the paths its mux would redirect (an HTML page, to
// wherever the cleaned path leads, /admin included) are the partner API's problem+json 404;
// the admin pages and the document are still served.
func TestEveryPathUnderV1IsAnsweredByTheAPINeverByARedirect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	for _, path := range []string{"/v1", "/v1/", "/v1//slots", "/v1/./locations", "/v1/slots/..", "/v1/../admin/",
		"/v1/../admin/login", "//v1/slots", "/admin/../v1", "/v1/nothing"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			rec := serve(method, path)
			if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" || rec.Header().Get("Location") != "" {
				t.Fatalf("%s %s: %d %v, want the API's 404 problem:\n%s", method, path, rec.Code, rec.Header(), rec.Body)
			}
		}
	}
	if rec := serve(http.MethodGet, "/v1/locations"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/locations without a key: %d, want the API's 401", rec.Code)
	}
	if rec := serve(http.MethodGet, "/openapi.json"); rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	if rec := serve(http.MethodGet, "/admin/login"); rec.Code != http.StatusOK {
		t.Fatalf("GET /admin/login: %d", rec.Code)
	}
}
