package emis

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// answerServer answers every call with a success envelope of method holding result, to a
// Caller that overwrites the buffers given back when poison is set.
func answerServer(t *testing.T, method, result string, poison bool) *Caller {
	t.Helper()
	body := `<PartnerApiResponse method="` + method + `"><Outcome>1</Outcome><Error></Error><Result>` + result + `</Result></PartnerApiResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s", PoisonReleased: poison})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// slotListServer answers every call with list as a slot list.
func slotListServer(t *testing.T, list string) *Caller {
	return answerServer(t, MethodGetSlotsForSession, list, false)
}

// drain empties a pool and says the capacity of the largest buffer it held.
func drain(p *bufferPool) (largest int) {
	for {
		b, ok := p.pool.Get().(*[]byte)
		if !ok {
			return largest
		}
		largest = max(largest, cap(*b))
	}
}

// useSlotList calls GetSlotsForSession's method with use, as GetSlotsForSessionUse does.
func useSlotList(t *testing.T, c *Caller, use func([]byte) error) *Envelope {
	t.Helper()
	env, err := c.Call(context.Background(), MethodGetSlotsForSession, url.Values{}, &usedResult{use: use})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// The sync decodes each slot list straight from the answer's buffer, which the next answer is
// read into. What it decoded must not change when that happens: a slot whose patient or status
// changed under the sync's feet would be written to the diary as EMIS never said.
func TestSlotsDecodedFromARecycledAnswerKeepTheirValues(t *testing.T) {
	c := slotListServer(t, sampleSlots)
	var want SlotList
	if err := xml.Unmarshal([]byte(sampleSlots), &want); err != nil {
		t.Fatal(err)
	}
	var got []Slot
	var handed []byte // kept only to overwrite it as a later answer would, as use must never do
	env := useSlotList(t, c, func(data []byte) (err error) {
		handed = data
		got, err = DecodeSlotList(data)
		return err
	})
	if env.Result.Data != nil {
		t.Fatal("the envelope returned still points into the answer's buffer")
	}
	whole := handed[:cap(handed)]
	for i := range whole {
		whole[i] = 'X'
	}
	if !reflect.DeepEqual(got, want.Slots) {
		t.Fatalf("the slots changed when their answer's buffer was reused:\n got %+v\nwant %+v", got, want.Slots)
	}
	// The buffer is given back for later answers. The race detector drops a quarter of what
	// is put in a sync.Pool, so several answers are read: one of them reuses an earlier buffer.
	seen := map[*byte]bool{&whole[0]: true}
	for range 20 {
		reused := false
		useSlotList(t, c, func(data []byte) error {
			reused = seen[&data[:1][0]]
			seen[&data[:1][0]] = true
			return nil
		})
		if reused {
			return
		}
	}
	t.Fatal("no answer's buffer was given back for a later answer")
}

// Answers larger than a slot list usually is are not kept for the next: a pooled buffer that
// big would be held for every call in flight.
func TestALargeAnswersBufferIsNotKept(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("<SlotList>")
	for b.Len() <= answerBuffers.max {
		b.WriteString(`<Slot><DBID>1</DBID><Type><TypeID>1</TypeID><Description></Description></Type><Status>Available</Status><Notes></Notes><Reason/></Slot>`)
	}
	b.WriteString("</SlotList>")
	c := slotListServer(t, b.String())
	drain(answerBuffers)
	for range 5 { // the race detector drops some of what is put back: ask several times
		useSlotList(t, c, func(data []byte) error {
			_, err := DecodeSlotList(data)
			return err
		})
	}
	if n := drain(answerBuffers); n > answerBuffers.max {
		t.Fatalf("a buffer of %d bytes was kept", n)
	}
}

// A session with no slots answers an empty result. The sync still hashes it, so that its next
// refresh recognises it as unchanged: the empty result is handed on, not skipped.
func TestAnEmptySlotListIsHandedOnToo(t *testing.T) {
	c := slotListServer(t, "")
	handed := false
	_, err := c.Call(context.Background(), MethodGetSlotsForSession, url.Values{}, &usedResult{use: func(data []byte) error {
		handed = true
		slots, err := DecodeSlotList(data)
		if err != nil || len(slots) != 0 {
			t.Errorf("the empty result decoded as %+v, %v; want no slots", slots, err)
		}
		return err
	}})
	if err != nil || !handed {
		t.Fatalf("an empty slot list: handed on = %v, err %v", handed, err)
	}
}

// leaseSessions reads a session list as GetAppointmentSessionsLeased does.
func leaseSessions(t *testing.T, c *Caller) ([]RawSession, func()) {
	t.Helper()
	raw := &rawResult{}
	if _, err := c.Call(context.Background(), MethodGetAppointmentSessions, url.Values{}, raw); err != nil {
		t.Fatal(err)
	}
	sessions, ok := SplitSessionList(raw.data)
	if !ok {
		t.Fatal("the session list was not split")
	}
	return sessions, c.releaser(raw.buf)
}

// The sync keeps a session list's elements for its whole pass, reading slots meanwhile: the
// list's buffer is the pass's until it gives it back, and only then is read into again.
func TestLeasedSessionsKeepTheirBytesUntilReleased(t *testing.T) {
	c := answerServer(t, MethodGetAppointmentSessions, "<AppointmentSessionList>"+sampleSession+sampleSession+"</AppointmentSessionList>", true)
	held, release := leaseSessions(t, c)
	want := make([]string, len(held))
	for i, s := range held {
		want[i] = string(s)
	}
	same := func() bool {
		for i, s := range held {
			if string(s) != want[i] {
				return false
			}
		}
		return true
	}
	for range 5 { // other lists read and given back meanwhile
		_, r := leaseSessions(t, c)
		r()
	}
	if !same() {
		t.Fatal("a held session list changed while other lists were read and given back")
	}
	release()
	if same() {
		t.Fatal("the buffer given back was not overwritten (Config.PoisonReleased)")
	}
	// A second release gives nothing back: the buffer, read into again meanwhile (here by
	// the test), is not overwritten again, nor put in the pool twice.
	whole := held[0][:cap(held[0])]
	for i := range whole {
		whole[i] = 'Y'
	}
	release()
	if bytes.Contains(whole, []byte("X")) {
		t.Fatal("a second release gave the buffer back again")
	}
	// Given back, the buffer is read into again. The race detector drops a quarter of what is
	// put in a sync.Pool, so several lists are read: one of them reuses an earlier buffer.
	seen := map[*byte]bool{}
	for range 20 {
		s, r := leaseSessions(t, c)
		p := &s[0][:1][0]
		if seen[p] {
			r()
			return
		}
		seen[p] = true
		r()
	}
	t.Fatal("no session list reused a buffer given back")
}

func TestALargeSessionListsBufferIsNotKept(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("<AppointmentSessionList>")
	for b.Len() <= listBuffers.max {
		b.WriteString(sampleSession)
	}
	b.WriteString("</AppointmentSessionList>")
	c := answerServer(t, MethodGetAppointmentSessions, b.String(), false)
	drain(listBuffers)
	for range 5 { // the race detector drops some of what is put back: ask several times
		_, release := leaseSessions(t, c)
		release()
	}
	if n := drain(listBuffers); n > listBuffers.max {
		t.Fatalf("a buffer of %d bytes was kept", n)
	}
}
