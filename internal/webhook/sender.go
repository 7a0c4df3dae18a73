package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// URLError is an endpoint URL herolink will not post to; the message says why.
type URLError struct{ Reason string }

func (e *URLError) Error() string { return "webhook: " + e.Reason }

// ErrAddressRefused is a connection refused at dial time because the address is loopback,
// private, link-local or otherwise not on the public internet (and not allowed by the
// configuration): checked on the address actually dialled, so DNS cannot smuggle one in.
var ErrAddressRefused = errors.New("webhook: the receiver's address is not a public one")

// Network says where herolink may post.
type Network struct {
	// AllowHTTPLoopback lets an endpoint use plain http to a loopback host (localhost, 127.x,
	// ::1), and lets loopback addresses be dialled: the demo and tests.
	AllowHTTPLoopback bool
	// AllowPrivate lets deliveries reach private and other non-public addresses (a partner's
	// receiver inside the same private network).
	AllowPrivate bool
}

const maxURLLength = 2048

// CheckURL says whether an endpoint URL may be registered: https (or http to loopback when
// allowed), a host, no credentials, no fragment, and no literal address herolink would refuse
// to dial.
func (n Network) CheckURL(raw string) error {
	if raw == "" {
		return &URLError{"url is required"}
	}
	if len(raw) > maxURLLength {
		return &URLError{fmt.Sprintf("url is longer than %d characters", maxURLLength)}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return &URLError{"url must be an absolute https URL"}
	}
	if u.User != nil {
		return &URLError{"url must not carry a user name or password"}
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return &URLError{"url must not have a fragment"}
	}
	host := u.Hostname()
	if host == "" {
		return &URLError{"url has no host"}
	}
	loopback := isLoopbackHost(host)
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback || !n.AllowHTTPLoopback {
			return &URLError{"url must use https (plain http is allowed only to this machine, when herolink is configured to allow it)"}
		}
	default:
		return &URLError{"url must use https"}
	}
	if ip, err := netip.ParseAddr(host); err == nil && !n.allowed(ip) {
		return &URLError{"url points at an address that is not public (" + ip.String() + ")"}
	}
	if loopback && !n.AllowHTTPLoopback && !n.AllowPrivate {
		return &URLError{"url points at this machine"}
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// nonPublic are ranges not covered by netip's predicates that are not on the public internet.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// allowed says whether an address may be dialled.
func (n Network) allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return n.AllowHTTPLoopback || n.AllowPrivate
	}
	if n.AllowPrivate {
		return !ip.IsUnspecified() && !ip.IsMulticast()
	}
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// sender posts deliveries.
type sender struct {
	client  *http.Client
	timeout time.Duration
}

// newSender builds an HTTP client that dials only allowed addresses (checked on the address
// dialled, after DNS), uses no proxy from the environment (a proxy would dial for it), and
// never follows a redirect: the receiver's 3xx is its answer.
func newSender(n Network, timeout time.Duration, tlsConfig *tls.Config) *sender {
	dialer := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return ErrAddressRefused
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !n.allowed(ip) {
			return fmt.Errorf("%w (%s)", ErrAddressRefused, host)
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &sender{timeout: timeout, client: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// result is what one attempt saw.
type result struct {
	Status  int
	Latency time.Duration
	Err     string // why there was no acceptable answer; "" on success
	Excerpt string
}

func (r result) ok() bool { return r.Err == "" }

const excerptBytes = 512

// post sends one attempt, bounded by the sender's timeout.
func (s *sender) post(ctx context.Context, rawURL string, h Headers, body []byte) result {
	// Timed from before the deadline is set, so an attempt cut off by it is never logged as
	// shorter than the timeout.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return result{Err: "bad url"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herolink-webhooks/1")
	req.Header.Set("webhook-id", h.ID)
	req.Header.Set("webhook-timestamp", h.Timestamp)
	req.Header.Set("webhook-signature", h.Signature)
	res, err := s.client.Do(req)
	if err != nil {
		return result{Latency: time.Since(start), Err: describe(err, s.timeout)}
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, excerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
	out := result{Status: res.StatusCode, Latency: time.Since(start), Excerpt: excerpt(head)}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
	case res.StatusCode >= 300 && res.StatusCode < 400:
		out.Err = fmt.Sprintf("answered %d (a redirect to %q): herolink does not follow redirects", res.StatusCode, res.Header.Get("Location"))
	default:
		out.Err = fmt.Sprintf("answered %d", res.StatusCode)
	}
	return out
}

// describe says why an attempt got no answer, without the URL's query (it may hold a token).
func describe(err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, ErrAddressRefused):
		return "refused: the receiver's address is not a public one"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "no answer: " + err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// excerpt keeps the start of an answer as valid UTF-8 text.
func excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
