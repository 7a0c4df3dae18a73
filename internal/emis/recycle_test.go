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

// slotListServer answers every call with a success envelope holding list.
func slotListServer(t *testing.T, list string) *Caller {
	t.Helper()
	body := `<PartnerApiResponse method="` + MethodGetSlotsForSession + `"><Outcome>1</Outcome><Error></Error><Result>` + list + `</Result></PartnerApiResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drainAnswerBuffers empties the pool.
func drainAnswerBuffers() {
	for cap(*answerBuffers.Get().(*[]byte)) != 0 { // the pool keeps none empty: a new one ends it
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
	for b.Len() <= maxRecycledAnswer {
		b.WriteString(`<Slot><DBID>1</DBID><Type><TypeID>1</TypeID><Description></Description></Type><Status>Available</Status><Notes></Notes><Reason/></Slot>`)
	}
	b.WriteString("</SlotList>")
	c := slotListServer(t, b.String())
	drainAnswerBuffers()
	for range 5 { // the race detector drops some of what is put back: ask several times
		useSlotList(t, c, func(data []byte) error {
			_, err := DecodeSlotList(data)
			return err
		})
	}
	for {
		p := answerBuffers.Get().(*[]byte)
		if cap(*p) == 0 {
			break
		}
		if cap(*p) > maxRecycledAnswer {
			t.Fatalf("a buffer of %d bytes was kept", cap(*p))
		}
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
