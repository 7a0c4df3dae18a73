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

// scribbleAnswerBuffers overwrites every buffer the pool holds, as the next answers would.
func scribbleAnswerBuffers() (scribbled int) {
	var held []*[]byte
	for {
		b := answerBuffers.Get().(*[]byte)
		if cap(*b) == 0 {
			break // a new one (the pool keeps none empty): the pool is empty
		}
		full := (*b)[:cap(*b)]
		for i := range full {
			full[i] = 'X'
		}
		held = append(held, b)
	}
	for _, b := range held {
		answerBuffers.Put(b)
	}
	return len(held)
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
	var handed []byte
	env, err := c.Call(context.Background(), MethodGetSlotsForSession, url.Values{}, &usedResult{use: func(data []byte) (err error) {
		handed = data // kept only to show the buffer is reused, as use must never do
		got, err = DecodeSlotList(data)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if env.Result.Data != nil {
		t.Fatal("the envelope returned still points into the answer's buffer")
	}
	if n := scribbleAnswerBuffers(); n == 0 {
		t.Fatal("the answer's buffer was not given back for the next answer")
	}
	if !bytes.Contains(handed, []byte("XXXX")) {
		t.Fatal("the scribbled buffers are not the one the answer was read into")
	}
	if !reflect.DeepEqual(got, want.Slots) {
		t.Fatalf("the slots changed when their answer's buffer was reused:\n got %+v\nwant %+v", got, want.Slots)
	}
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
	scribbleAnswerBuffers()
	_, err := c.Call(context.Background(), MethodGetSlotsForSession, url.Values{}, &usedResult{use: func(data []byte) error {
		_, err := DecodeSlotList(data)
		return err
	}})
	if err != nil {
		t.Fatal(err)
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
