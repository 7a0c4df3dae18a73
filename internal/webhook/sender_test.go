package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestOnlyHTTPSURLsArePostedToAndPlainHTTPOnlyToThisMachineWhenAllowed(t *testing.T) {
	t.Parallel()
	strict, demo := Network{}, Network{AllowHTTPLoopback: true}
	for _, tc := range []struct {
		url    string
		n      Network
		reason string // "" accepted
	}{
		{"https://partner.example/hooks", strict, ""},
		{"https://partner.example:8443/hooks?token=x", strict, ""},
		{"http://partner.example/hooks", strict, "must use https"},
		{"http://partner.example/hooks", demo, "must use https"},
		{"http://127.0.0.1:8080/hooks", strict, "must use https"},
		{"http://127.0.0.1:8080/hooks", demo, ""},
		{"http://localhost:8080/hooks", demo, ""},
		{"http://[::1]:8080/hooks", demo, ""},
		{"https://localhost/hooks", strict, "this machine"},
		{"https://127.0.0.1/hooks", strict, "not public"},
		{"https://10.1.2.3/hooks", strict, "not public"},
		{"https://192.168.0.10/hooks", strict, "not public"},
		{"https://169.254.169.254/latest/meta-data", strict, "not public"},
		{"https://[fd00::1]/hooks", strict, "not public"},
		{"https://[::ffff:10.0.0.1]/hooks", strict, "not public"},
		{"https://100.64.0.1/hooks", strict, "not public"},
		{"https://10.1.2.3/hooks", Network{AllowPrivate: true}, ""},
		{"ftp://partner.example/hooks", strict, "must use https"},
		{"https://user:pw@partner.example/hooks", strict, "user name or password"},
		{"https://partner.example/hooks#x", strict, "fragment"},
		{"/hooks", strict, "absolute"},
		{"https:///hooks", strict, "no host"},
		{"", strict, "required"},
		{"https://partner.example/" + strings.Repeat("a", 2100), strict, "longer than"},
	} {
		err := tc.n.CheckURL(tc.url)
		if tc.reason == "" && err != nil || tc.reason != "" && (err == nil || !strings.Contains(err.Error(), tc.reason)) {
			t.Errorf("%.60s (%+v): %v, want %q", tc.url, tc.n, err, tc.reason)
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	f.Add("https://partner.example/hooks")
	f.Add("http://127.0.0.1:1/x")
	f.Fuzz(func(t *testing.T, s string) {
		if (Network{}).CheckURL(s) == nil && !strings.HasPrefix(s, "https://") && !strings.HasPrefix(strings.ToLower(s), "https://") {
			t.Fatalf("%q accepted", s)
		}
	})
}

func TestAnAddressThatIsNotPublicIsRefusedWhenDialledWhateverTheNameSaid(t *testing.T) {
	t.Parallel()
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer srv.Close()
	// "localhost" passes no literal check; the dialler sees 127.0.0.1 and refuses.
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	s := newSender(Network{}, time.Second, nil)
	defer s.client.CloseIdleConnections()
	res := s.post(context.Background(), url, Headers{ID: "msg_1", Timestamp: "1"}, []byte(`{}`))
	if res.ok() || !strings.Contains(res.Err, "not a public one") || hit {
		t.Fatalf("%+v (receiver hit: %v)", res, hit)
	}
	for _, a := range []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fc00::1",
		"0.0.0.0", "100.64.1.1", "224.0.0.1", "::ffff:192.168.1.1"} {
		if (Network{}).allowed(netip.MustParseAddr(a)) {
			t.Errorf("%s allowed", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "2606:4700::1111", "81.2.69.142"} {
		if !(Network{}).allowed(netip.MustParseAddr(a)) {
			t.Errorf("%s refused", a)
		}
	}
}

func TestAReceiversRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	elsewhere := false
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere = true }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	s := newSender(Network{AllowHTTPLoopback: true}, time.Second, nil)
	defer s.client.CloseIdleConnections()
	res := s.post(context.Background(), srv.URL, Headers{ID: "msg_1", Timestamp: "1", Signature: "v1,x"}, []byte(`{}`))
	if res.ok() || res.Status != http.StatusTemporaryRedirect || !strings.Contains(res.Err, "does not follow redirects") || elsewhere {
		t.Fatalf("%+v (followed: %v)", res, elsewhere)
	}
}
