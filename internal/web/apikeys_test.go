package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"herolink/internal/api/apikey"
	"herolink/internal/store"
)

var shownKey = regexp.MustCompile(`value="(hlk_live_[A-Za-z0-9_-]{43})"`)

func keysPath(id int64) string { return practicePath(id) + "/api-keys" }

// keysBundle is the pages with two practices (each its own practice group) and a key service
// over the same store, as the partner API would use.
func keysBundle(t *testing.T) (*testBundle, store.Practice, store.Practice, *apikey.Service) {
	t.Helper()
	b := setup(t)
	ctx := context.Background()
	pa, err := b.store.EnsurePractice(ctx, "A81001", 29001, "Riverside Medical Practice")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.store.EnsurePractice(ctx, "A81002", 29002, "Oakfield Surgery")
	if err != nil {
		t.Fatal(err)
	}
	return b, pa, pb, &apikey.Service{Store: b.store}
}

func createKey(t *testing.T, c *client, practiceID int64, name string, scopes ...string) (response, string) {
	t.Helper()
	r := c.post(keysPath(practiceID), url.Values{"name": {name}, "partner": {"Acme Triage"}, "scopes": scopes})
	m := shownKey.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("create key: %d\n%s", r.status, r.body)
	}
	return r, m[1]
}

func TestSupportCreatesAKeyThatIsShownOnlyOnce(t *testing.T) {
	t.Parallel()
	b, pa, _, keys := keysBundle(t)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	r := c.get(keysPath(pa.ID))
	mustSay(t, r, "This practice group has no API keys yet", pa.PracticeGroupID)
	mustSay(t, c.get(practicePath(pa.ID)), "Partner API keys")

	r, secret := createKey(t, c, pa.ID, "Triage production", "booking", "messaging")
	mustSay(t, r, "Copy the key now", "Triage production", "Acme Triage", "Booking, Messaging")
	k, err := keys.Authenticate(context.Background(), secret)
	if err != nil || k.PracticeGroupID != pa.PracticeGroupID || !k.Has(apikey.ScopeBooking) || k.Has(apikey.ScopeBookingLinks) || k.CreatedBy != "alice" {
		t.Fatalf("%+v %v", k, err)
	}
	// Shown once: the list afterwards has the prefix, never the key.
	r = c.get(keysPath(pa.ID))
	mustSay(t, r, "Triage production", k.Prefix+"…", "Working")
	mustNotSay(t, r, secret, "Copy the key now")
	n := 0
	for _, resp := range b.seen.responses() {
		if strings.Contains(resp, secret) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the key appeared in %d responses", n)
	}
	audit, _ := b.store.ListAudit(context.Background(), pa.ID, 10)
	if len(audit) == 0 || audit[0].Action != "api_key.created" || audit[0].Actor != "alice" || strings.Contains(audit[0].Detail, secret[9:]) {
		t.Fatalf("audit %+v", audit)
	}
	if strings.Contains(b.logs.String(), secret[9:]) {
		t.Fatal("the key was logged")
	}
}

func TestCreatingAKeyNeedsANameAPartnerAndAScope(t *testing.T) {
	t.Parallel()
	b, pa, _, keys := keysBundle(t)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	for _, tc := range []struct {
		form url.Values
		say  string
	}{
		{url.Values{"name": {" "}, "partner": {"Acme"}, "scopes": {"booking"}}, "Enter a name for the key"},
		{url.Values{"name": {"Prod"}, "partner": {""}, "scopes": {"booking"}}, "Enter the partner organisation"},
		{url.Values{"name": {"Prod"}, "partner": {"Acme"}}, "Choose at least one scope"},
		{url.Values{"name": {"Prod"}, "partner": {"Acme"}, "scopes": {"admin"}}, `There is no scope "admin"`},
	} {
		r := c.post(keysPath(pa.ID), tc.form)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%v: %d", tc.form, r.status)
		}
		mustSay(t, r, tc.say)
		mustNotSay(t, r, "Copy the key now")
	}
	// What was typed is kept.
	r := c.post(keysPath(pa.ID), url.Values{"name": {"Prod"}, "partner": {""}, "scopes": {"messaging"}})
	mustHave(t, r, `value="Prod"`, `value="messaging" checked`)
	if list, _ := keys.List(context.Background(), pa.PracticeGroupID); len(list) != 0 {
		t.Fatalf("keys were created: %+v", list)
	}
}

func TestRotatingAKeyShowsTheNewOneOnceAndStopsTheOld(t *testing.T) {
	t.Parallel()
	b, pa, _, keys := keysBundle(t)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	_, old := createKey(t, c, pa.ID, "Prod", "booking")
	k, _ := keys.Authenticate(context.Background(), old)
	r := c.post(keysPath(pa.ID)+"/"+k.ID+"/rotate", nil)
	m := shownKey.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || m[1] == old {
		t.Fatalf("%d\n%s", r.status, r.body)
	}
	mustSay(t, r, "The old key has stopped working", "Rotated")
	// keys has the old key cached: the pages' own service (shared with the API in the app) forgot
	// it; a fresh one reads the database.
	keys = &apikey.Service{Store: b.store}
	if _, err := keys.Authenticate(context.Background(), old); !errors.Is(err, apikey.ErrUnknownKey) {
		t.Fatalf("old key: %v", err)
	}
	if nk, err := keys.Authenticate(context.Background(), m[1]); err != nil || nk.Name != "Prod" || !nk.Has(apikey.ScopeBooking) {
		t.Fatalf("new key: %+v %v", nk, err)
	}
	// Rotating it again is refused: it is no longer working.
	if r := c.post(keysPath(pa.ID)+"/"+k.ID+"/rotate", nil); r.status != http.StatusNotFound {
		t.Fatalf("%d", r.status)
	}
	audit, _ := b.store.ListAudit(context.Background(), pa.ID, 10)
	if audit[0].Action != "api_key.rotated" || strings.Contains(audit[0].Detail, m[1][9:]) {
		t.Fatalf("%+v", audit[0])
	}
}

func TestRevokingAKeyStopsIt(t *testing.T) {
	t.Parallel()
	b, pa, _, keys := keysBundle(t)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	_, secret := createKey(t, c, pa.ID, "Prod", "booking")
	k, _ := keys.Authenticate(context.Background(), secret)
	r := c.send(http.MethodPost, keysPath(pa.ID)+"/"+k.ID+"/revoke", url.Values{}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != keysPath(pa.ID)+"?done=revoked" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	mustSay(t, c.get(r.header.Get("Location")), "The key is revoked", "Revoked")
	keys = &apikey.Service{Store: b.store} // uncached
	if _, err := keys.Authenticate(context.Background(), secret); !errors.Is(err, apikey.ErrUnknownKey) {
		t.Fatalf("%v", err)
	}
	audit, _ := b.store.ListAudit(context.Background(), pa.ID, 10)
	if audit[0].Action != "api_key.revoked" || audit[0].Actor != "alice" {
		t.Fatalf("%+v", audit[0])
	}
}

func TestPracticeStaffManageOnlyTheirOwnPracticeGroupsKeys(t *testing.T) {
	t.Parallel()
	b, pa, pb, keys := keysBundle(t)
	other, err := keys.Create(context.Background(), apikey.Actor{Name: "setup"}, pb.PracticeGroupID,
		apikey.NewKey{Name: "Oakfield partner", Partner: "Other", Scopes: []string{"booking"}})
	if err != nil {
		t.Fatal(err)
	}
	c := b.signedIn(t, "pm", store.RolePractice, pa.ID)
	if r := c.get(keysPath(pa.ID)); r.status != http.StatusOK {
		t.Fatalf("own practice: %d", r.status)
	}
	createKey(t, c, pa.ID, "Own", "booking")
	for _, r := range []response{
		c.get(keysPath(pb.ID)),
		c.post(keysPath(pb.ID), url.Values{"name": {"x"}, "partner": {"y"}, "scopes": {"booking"}}),
		c.post(keysPath(pb.ID)+"/"+other.Key.ID+"/revoke", nil),
	} {
		if r.status != http.StatusForbidden {
			t.Fatalf("another practice: %d %s", r.status, r.url)
		}
	}
	// Another group's key id through one's own practice is not found, and keeps working.
	if r := c.post(keysPath(pa.ID)+"/"+other.Key.ID+"/revoke", nil); r.status != http.StatusNotFound {
		t.Fatalf("%d", r.status)
	}
	if r := c.post(keysPath(pa.ID)+"/"+other.Key.ID+"/rotate", nil); r.status != http.StatusNotFound {
		t.Fatalf("%d", r.status)
	}
	if _, err := keys.Authenticate(context.Background(), other.Secret); err != nil {
		t.Fatalf("the other group's key stopped: %v", err)
	}
	mustNotSay(t, c.get(keysPath(pa.ID)), "Oakfield partner")
}

func TestKeyFormsRefuseCrossSiteRequestsAndSignedOutVisitors(t *testing.T) {
	t.Parallel()
	b, pa, _, keys := keysBundle(t)
	c := b.signedIn(t, "alice", store.RoleSupport, 0)
	r := c.send(http.MethodPost, keysPath(pa.ID), url.Values{"name": {"x"}, "partner": {"y"}, "scopes": {"booking"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("cross-site: %d", r.status)
	}
	anon := b.client(t)
	if r := anon.send(http.MethodPost, keysPath(pa.ID), url.Values{"name": {"x"}, "partner": {"y"}, "scopes": {"booking"}}, nil); r.status != http.StatusSeeOther ||
		!strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
		t.Fatalf("signed out: %d %v", r.status, r.header)
	}
	if list, _ := keys.List(context.Background(), pa.PracticeGroupID); len(list) != 0 {
		t.Fatalf("keys were created: %+v", list)
	}
}
