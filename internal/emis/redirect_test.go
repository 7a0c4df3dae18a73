package emis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTheAPIPasswordIsNeverSentWhereAnEMISRedirectPoints: an "EMIS" that answers Logon with a
// 307 (which makes Go's client re-send the form, password included) or a 302 to another server;
// that server must receive nothing, whoever built the HTTP client, and the error says why.
func TestTheAPIPasswordIsNeverSentWhereAnEMISRedirectPoints(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	var gotPassword atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.ParseForm() == nil && r.PostForm.Get("password") != "" {
			gotPassword.Store(true)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		for _, own := range []bool{false, true} {
			redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+r.URL.Path, status)
			}))
			cfg := Config{BaseURL: redirecting.URL, SupplierID: "s"}
			if own {
				cfg.HTTPClient = &http.Client{} // a caller's client, which follows redirects by default
			}
			c, err := NewCaller(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Logon(context.Background(), "login", "Herouser", "Api-secret-1")
			redirecting.Close()
			var te *TransportError
			if !errors.As(err, &te) || !errors.Is(err, ErrRedirected) || te.StatusCode != status {
				t.Fatalf("%d (own client %v): error %v, want a TransportError wrapping ErrRedirected with the status", status, own, err)
			}
			if strings.Contains(err.Error(), "Api-secret-1") || !strings.Contains(err.Error(), "check the EMIS URL") {
				t.Errorf("error %q: want no password and the advice to check the EMIS URL", err)
			}
		}
	}
	if gotPassword.Load() || reached.Load() != 0 {
		t.Fatalf("the redirect target was called %d times (password received: %v)", reached.Load(), gotPassword.Load())
	}
}

// TestAnAnswerLargerThan16MiBIsRefusedUnread: with and without a Content-Length.
func TestAnAnswerLargerThan16MiBIsRefusedUnread(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", maxResponseBytes+1)
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if chunked {
				w.Header().Set("Transfer-Encoding", "chunked") // no Content-Length: read up to the bound
			}
			_, _ = w.Write([]byte(big))
		}))
		c, err := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.InitializeWithID(context.Background(), 1)
		srv.Close()
		if !errors.Is(err, ErrAnswerTooLarge) || !strings.Contains(err.Error(), "larger than 16 MiB") {
			t.Fatalf("chunked %v: error %v, want ErrAnswerTooLarge", chunked, err)
		}
	}
}

// TestAnAnswerCutShortOfItsLengthIsATransportError: EMIS said how long its answer is and the
// connection ended before it: nothing of it is decoded (a cut list would look like a short
// diary), and the call fails as a transport error, which the sync tries again.
func TestAnAnswerCutShortOfItsLengthIsATransportError(t *testing.T) {
	t.Parallel()
	whole := `<?xml version="1.0"?><Envelope><Outcome>0</Outcome></Envelope>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s", len(whole)+100, whole)
		_ = buf.Flush()
	}))
	defer srv.Close()
	c, err := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InitializeWithID(context.Background(), 1)
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "read answer") {
		t.Fatalf("error %v, want a TransportError reading the answer (unexpected EOF)", err)
	}
}
