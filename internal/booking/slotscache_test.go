package booking_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
)

// A kept slot search answer is the answer Slots gives at that moment, whatever happened since
// it was kept: a hold, the hold running out, reception booking a slot in EMIS, time passing
// the first slot. And an unchanged question is answered from what was kept.
func TestAKeptSlotAnswerIsAlwaysWhatTheSearchWouldSayNow(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	encodes := 0
	encode := func(p booking.SlotPage) []byte {
		encodes++
		ids := make([]string, len(p.Slots))
		for i, s := range p.Slots {
			ids[i] = s.ID
		}
		return []byte(strings.Join(ids, " ") + "|" + p.NextCursor)
	}
	from := time.Now().AddDate(0, 0, 2)
	q := booking.SlotQuery{From: from, To: from.AddDate(0, 0, 10), Limit: 5}
	check := func(when string) []string {
		t.Helper()
		got, err := b.svc.SlotsEncoded(ctx, b.group, q, encode)
		if err != nil {
			t.Fatal(err)
		}
		page, err := b.svc.Slots(ctx, b.group, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := encode(page); string(got) != string(want) {
			t.Fatalf("%s: the kept answer is %q, the search says %q", when, got, want)
		}
		ids, _, _ := strings.Cut(string(got), "|")
		return strings.Fields(ids)
	}

	first := check("first asked")
	before := encodes
	if again := check("asked again"); strings.Join(again, " ") != strings.Join(first, " ") {
		t.Fatalf("nothing changed, yet the answer did: %v then %v", first, again)
	}
	if encodes != before+1 { // check's own Slots encodes once; the kept answer none
		t.Errorf("an unchanged question was answered anew (%d encodes, want %d)", encodes, before+1)
	}

	held := b.reserve(t, first[0])
	if now := check("after a hold"); now[0] == held.SlotID {
		t.Fatalf("the held slot %s is still offered", held.SlotID)
	}

	b.clock.advance(20 * time.Minute) // past the practice's hold time
	if now := check("after the hold ran out"); now[0] != held.SlotID {
		t.Fatalf("the slot whose hold ran out is not offered again: %v", now)
	}

	taken := b.emisSlot(t, first[1])
	_, emisNo := b.emisPatient(t)
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: taken.DBID, PatientID: emisNo}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	for _, id := range check("after reception booked a slot") {
		if id == first[1] {
			t.Fatalf("the slot reception booked, %s, is still offered", id)
		}
	}

	b.clock.advance(time.Until(mustStart(t, b, first[0])) + time.Minute) // the first slot has started
	for _, id := range check("after the first slot started") {
		if id == first[0] {
			t.Fatalf("a slot that has started, %s, is still offered", id)
		}
	}
}

func mustStart(t *testing.T, b *bundle, id string) time.Time {
	t.Helper()
	s, err := b.svc.Slot(context.Background(), b.group, id)
	if err != nil {
		t.Fatal(err)
	}
	return s.StartAt
}
