package sandbox

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTheSandboxServerBoundsHowLongARequestMayTakeToArrive(t *testing.T) {
	srv := HTTPServer(NewServer(New(Options{Seed: 1}), nil))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 10*time.Second ||
		srv.ReadTimeout <= 0 || srv.ReadTimeout > 30*time.Second || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 64<<10 {
		t.Fatalf("header timeout %s, read timeout %s, max header bytes %d: want at most 10 s, 30 s and 64 KiB",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.MaxHeaderBytes)
	}
}

// TestAClientThatStopsSendingItsBodyIsCutOff: headers promise 100 bytes, 10 arrive, then
// nothing. The connection must be closed once the read timeout passes (shortened here), not
// held open.
func TestAClientThatStopsSendingItsBodyIsCutOff(t *testing.T) {
	srv := HTTPServer(NewServer(New(Options{Seed: 1}), nil))
	srv.ReadTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("POST /partnerapi/v1/Logon HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nloginId=ab"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("a request whose body never arrived was answered %d", resp.StatusCode)
		}
		return
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server held the connection of a client that stopped sending its body for 5 s")
	}
}

func TestARequestBodyOverOneMiBIsRefusedOnEveryRoute(t *testing.T) {
	h := NewServer(New(Options{Seed: 1}), nil)
	for _, path := range []string{"/partnerapi/v1/Logon", "/sandbox/v1/faults", "/nowhere"} {
		req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader("a="+strings.Repeat("x", 2<<20)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 400 {
			t.Errorf("POST %s with 2 MiB: %d, want a refusal", path, rec.Code)
		}
	}
}
