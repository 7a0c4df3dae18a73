package web

import (
	"testing"
	"testing/synctest"
	"time"

	"herolink/internal/practice"
)

func request(password string) practice.ConnectRequest {
	return practice.ConnectRequest{Form: practice.Form{ODS: "A81001", Username: "Herouser", Password: password}}
}

func TestPendingFormIsTakenOnceBySameSession(t *testing.T) {
	t.Parallel()
	p := newPendingForms(pendingTTL, 10, 5)
	token := p.put("session-a", request("Secret1x"))
	if _, ok := p.take("session-b", token); ok {
		t.Fatal("another session took the pending form")
	}
	req, ok := p.take("session-a", token)
	if !ok || req.Form.Password != "Secret1x" {
		t.Fatalf("take = %+v, %v", req, ok)
	}
	if _, ok := p.take("session-a", token); ok {
		t.Fatal("a pending form was taken twice")
	}
	if _, ok := p.take("session-a", "made-up-token"); ok {
		t.Fatal("an unknown token found a form")
	}
}

func TestPendingFormExpiresAfterTenMinutes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newPendingForms(pendingTTL, 10, 5)
		early := p.put("s", request("a"))
		late := p.put("s", request("b"))
		time.Sleep(9*time.Minute + 59*time.Second)
		if _, ok := p.take("s", early); !ok {
			t.Fatal("a form expired before ten minutes")
		}
		time.Sleep(time.Second)
		if _, ok := p.take("s", late); ok {
			t.Fatal("a form outlived ten minutes")
		}
	})
}

func TestPendingFormsPurgeExpiredEntriesOnInsert(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newPendingForms(pendingTTL, 100, 5)
		for _, s := range []string{"a", "b", "c"} {
			p.put(s, request("x"))
		}
		time.Sleep(pendingTTL)
		p.put("d", request("y"))
		if n := p.len(); n != 1 {
			t.Fatalf("%d entries after an insert past expiry, want 1", n)
		}
	})
}

func TestPendingFormsAreBoundedInAllAndPerSession(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newPendingForms(pendingTTL, 4, 2)
		first := p.put("a", request("1"))
		time.Sleep(time.Second)
		second := p.put("a", request("2"))
		time.Sleep(time.Second)
		third := p.put("a", request("3"))
		if _, ok := p.take("a", first); ok {
			t.Fatal("a session kept more than its share: the oldest was not dropped")
		}
		if p.len() != 2 {
			t.Fatalf("len = %d, want 2", p.len())
		}
		for _, s := range []string{"b", "c", "d"} {
			time.Sleep(time.Second)
			p.put(s, request(s))
		}
		if p.len() != 4 {
			t.Fatalf("len = %d, want the bound 4", p.len())
		}
		if _, ok := p.take("a", second); ok {
			t.Fatal("the oldest entry survived the global bound")
		}
		if _, ok := p.take("a", third); !ok {
			t.Fatal("a newer entry was dropped before the oldest")
		}
	})
}

func TestSignOutDropsThatSessionsPendingForms(t *testing.T) {
	t.Parallel()
	p := newPendingForms(pendingTTL, 10, 5)
	mine := p.put("a", request("1"))
	theirs := p.put("b", request("2"))
	p.dropSession("a")
	if _, ok := p.take("a", mine); ok {
		t.Fatal("a signed-out session's form survived")
	}
	if _, ok := p.take("b", theirs); !ok {
		t.Fatal("another session's form was dropped")
	}
}
