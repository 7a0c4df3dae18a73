package emis

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const sampleSlots = `<SlotList><Slot><DBID>2900198250000</DBID><GUID>g</GUID><SessionGUID>s</SessionGUID><SessionDBID>2900198250</SessionDBID><Date>2026-11-24</Date><StartTime>08:30</StartTime><SlotLength>10</SlotLength><Type><TypeID>2</TypeID><Description>Urgent on the day</Description></Type><Status>Booked</Status><AppointmentStatus>Booked</AppointmentStatus><PatientList><Patient><DBID>533</DBID><NhsNumber>9990001234</NhsNumber><FamilyName>O&#39;Brien</FamilyName><FirstNames>Seán</FirstNames></Patient></PatientList><Notes>a &amp; b &lt;c&gt;</Notes><Reason>Review</Reason><BookedBy>Reception</BookedBy></Slot><Slot><DBID>2</DBID><Type><TypeID>1</TypeID><Description></Description></Type><Status>Available</Status><Notes></Notes><Reason/></Slot></SlotList>`

func TestPlainSlotListReadsWhatEncodingXMLReads(t *testing.T) {
	t.Parallel()
	fast, ok := decodeSlotListPlain([]byte(sampleSlots))
	if !ok {
		t.Fatal("the plain reader refused the sandbox's slot list")
	}
	var slow SlotList
	if err := xml.Unmarshal([]byte(sampleSlots), &slow); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, slow.Slots) {
		t.Fatalf("fast %+v\nslow %+v", fast, slow.Slots)
	}
	if fast[0].Patients[0].FamilyName != "O'Brien" || fast[0].Notes != "a & b <c>" {
		t.Fatalf("entities: %+v", fast[0])
	}
	for _, odd := range []string{`<SlotList><Slot id="1"/></SlotList>`, `<SlotList><!-- x --></SlotList>`,
		`<SlotList><Slot><Extra>1</Extra></Slot></SlotList>`, `<SlotList><Slot><Notes>&nbsp;</Notes></Slot></SlotList>`} {
		if _, ok := decodeSlotListPlain([]byte(odd)); ok {
			t.Errorf("accepted %q, which needs encoding/xml", odd)
		}
	}
}

// Whenever the plain reader accepts a slot list, encoding/xml reads the same slots.
func FuzzPlainSlotListAgreesWithEncodingXML(f *testing.F) {
	f.Add([]byte(sampleSlots))
	f.Add([]byte(`<SlotList/>`))
	f.Add([]byte(`<SlotList><Slot><DBID> 7 </DBID><SlotLength></SlotLength></Slot></SlotList>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeSlotListPlain(data)
		if !ok {
			return
		}
		var slow SlotList
		if err := xml.Unmarshal(data, &slow); err != nil {
			t.Fatalf("plain reader accepted what encoding/xml rejects (%v): %q", err, data)
		}
		if len(fast) == 0 && len(slow.Slots) == 0 {
			return
		}
		if !reflect.DeepEqual(fast, slow.Slots) {
			t.Fatalf("disagreement on %q:\nfast %#v\nslow %#v", data, fast, slow.Slots)
		}
	})
}

const sampleSession = `<AppointmentSession><DBID>290019825</DBID><GUID>g</GUID><Name>Morning &amp; more</Name><Date>2026-11-24</Date><StartTime>08:30</StartTime><EndTime>11:30</EndTime><SlotLength>10</SlotLength><Site><DBID>101</DBID><Name>Main</Name><Postcode>AB1 2CD</Postcode></Site><HolderList><Holder><DBID>201</DBID><Title>Dr</Title><FirstNames>Seán</FirstNames><LastName>O&#39;Brien</LastName><JobCategory>GP</JobCategory></Holder><Holder><DBID>202</DBID><Title></Title><FirstNames/><LastName>X</LastName></Holder></HolderList><SlotTypeList><SlotType><TypeID>1</TypeID><Description>Routine</Description><Total>18</Total><Booked>5</Booked><Blocked>0</Blocked><Embargoed>1</Embargoed><Available>12</Available></SlotType></SlotTypeList></AppointmentSession>`

func TestPlainSessionReadsWhatEncodingXMLReads(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{sampleSession, `<AppointmentSession><DBID>7</DBID><HolderList></HolderList><SlotTypeList/></AppointmentSession>`} {
		fast, ok := decodeSessionPlain([]byte(doc))
		if !ok {
			t.Fatalf("the plain reader refused %q", doc)
		}
		var slow Session
		if err := xml.Unmarshal([]byte(doc), &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v\nslow %+v", fast, slow)
		}
	}
	for _, odd := range []string{`<AppointmentSession x="1"/>`, `<AppointmentSession><Extra/></AppointmentSession>`,
		`<AppointmentSession><DBID>1</DBID><DBID>2</DBID></AppointmentSession>`,
		`<AppointmentSession><HolderList><Holder/></HolderList><HolderList/></AppointmentSession>`,
		`<AppointmentSession><Site><DBID>1</DBID><Other/></Site></AppointmentSession>`} {
		if _, ok := decodeSessionPlain([]byte(odd)); ok {
			t.Errorf("accepted %q, which needs encoding/xml", odd)
		}
	}
}

// Whenever the plain reader accepts a session, encoding/xml reads the same session.
func FuzzPlainSessionAgreesWithEncodingXML(f *testing.F) {
	f.Add([]byte(sampleSession))
	f.Add([]byte(`<AppointmentSession/>`))
	f.Add([]byte(`<AppointmentSession><DBID> 7 </DBID><SlotLength></SlotLength><Site/></AppointmentSession>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeSessionPlain(data)
		if !ok {
			return
		}
		var slow Session
		if err := xml.Unmarshal(data, &slow); err != nil {
			t.Fatalf("plain reader accepted what encoding/xml rejects (%v): %q", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("disagreement on %q:\nfast %#v\nslow %#v", data, fast, slow)
		}
	})
}

// The plain reader reuses its nodes between answers: answers read one after another and at
// once, some refused halfway through, large and small, each read what encoding/xml reads.
func TestSlotListsReadAtOnceAndAfterARefusedOneReadWhatEncodingXMLReads(t *testing.T) {
	t.Parallel()
	docs := []string{sampleSlots, `<SlotList/>`,
		`<SlotList><Slot><DBID>1</DBID><Type><TypeID>1</TypeID><Extra/></Type></Slot></SlotList>`, // refused deep inside
		`<SlotList><Slot><DBID>5</DBID><PatientList><Patient><DBID>9</DBID>`,                      // cut off
	}
	for n := 1; n <= 400; n *= 7 { // more slots than the slab's first guess holds, sometimes
		var b strings.Builder
		b.WriteString("<SlotList>")
		for i := range n {
			fmt.Fprintf(&b, "<Slot><DBID>%d</DBID><Status>Available</Status><Type><TypeID>%d</TypeID><Description>T</Description></Type></Slot>", n*1000+i, i%3)
		}
		b.WriteString("</SlotList>")
		docs = append(docs, b.String())
	}
	want := make([][]Slot, len(docs))
	for i, doc := range docs {
		var slow SlotList
		if err := xml.Unmarshal([]byte(doc), &slow); err == nil {
			want[i] = slow.Slots
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 200 {
				i := (g + r*3) % len(docs)
				got, ok := decodeSlotListPlain([]byte(docs[i]))
				if !ok {
					if want[i] != nil && i != 2 {
						t.Errorf("refused %.60q", docs[i])
					}
					continue
				}
				if len(got) == 0 && len(want[i]) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("read %.60q as %+v, encoding/xml as %+v", docs[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// Text XML does not allow (control characters, U+FFFE and U+FFFF, bytes that are not UTF-8, and
// U+FFFD, which stands for such bytes) is
// left to encoding/xml, which refuses it; allowed text, accents and tabs included, is read fast.
func TestPlainReaderLeavesTextXMLForbidsToEncodingXML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		notes string
		fast  bool
	}{
		{"Seán O'Brien\tline\nnext", true},
		{"emoji 🙂 and ü", true},
		{"bell \x07", false},
		{"nul \x00", false},
		{"noncharacter \uFFFE", false},
		{"noncharacter \uFFFF", false},
		{"replacement \uFFFD", false},
		{"cut \xc3", false},
	} {
		doc := "<SlotList><Slot><DBID>1</DBID><Notes>" + tc.notes + "</Notes></Slot></SlotList>"
		if _, ok := decodeSlotListPlain([]byte(doc)); ok != tc.fast {
			t.Errorf("notes %q: read fast %v, want %v", tc.notes, ok, tc.fast)
		}
		if got := xmlText([]byte(tc.notes)); got != tc.fast {
			t.Errorf("xmlText(%q) = %v, want %v", tc.notes, got, tc.fast)
		}
	}
}
