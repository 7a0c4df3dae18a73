package sandbox

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// emis-sandbox -v logs every request: its method, path and answer, never the body (a Logon
// carries the API password).
func TestVerboseSandboxLogsEachRequestWithoutItsBody(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := NewServer(New(Options{Seed: 1, Preconfigured: true}), log)
	req := httptest.NewRequest(http.MethodPost, "/partnerapi/v1/Logon", strings.NewReader("loginId=Herouser&password="+DemoAPIPassword))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	out := buf.String()
	for _, want := range []string{"method=POST path=/partnerapi/v1/Logon status=", "method=GET path=/nowhere status=404"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, DemoAPIPassword) {
		t.Errorf("the log carries the API password:\n%s", out)
	}

	// Without -v (info level) nothing is logged per request.
	buf.Reset()
	quiet := NewServer(New(Options{Seed: 1}), slog.New(slog.NewTextHandler(&buf, nil)))
	quiet.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	if buf.Len() != 0 {
		t.Errorf("a request was logged without -v: %s", buf.String())
	}
}
