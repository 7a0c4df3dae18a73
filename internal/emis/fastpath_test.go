package emis

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"testing"
)

const sampleEnvelope = `<?xml version="1.0" encoding="UTF-8"?>
<PartnerApiResponse method="GetAppointmentSessions"><Outcome>1</Outcome><Error></Error><Result><AppointmentSessionList><AppointmentSession><DBID>1</DBID><GUID>g</GUID><Name>Morning surgery</Name><Date>2026-11-24</Date><StartTime>08:30</StartTime><EndTime>11:30</EndTime><SlotLength>10</SlotLength><Site><DBID>101</DBID><Name>Main</Name></Site><HolderList><Holder><DBID>201</DBID><Title>Dr</Title><FirstNames>A</FirstNames><LastName>B</LastName></Holder></HolderList><SlotTypeList><SlotType><TypeID>1</TypeID><Description>Routine</Description><Total>18</Total><Booked>3</Booked><Blocked>0</Blocked><Embargoed>0</Embargoed><Available>15</Available></SlotType></SlotTypeList></AppointmentSession><AppointmentSession><DBID>2</DBID><Name>Afternoon &amp; evening</Name></AppointmentSession></AppointmentSessionList></Result></PartnerApiResponse>`

func slowDecode(body []byte) (*Envelope, error) {
	var env Envelope
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		return nil, err
	}
	return &env, nil
}

func TestFastEnvelopeReadsWhatTheSandboxWrites(t *testing.T) {
	t.Parallel()
	fast, ok := decodeEnvelopeFast([]byte(sampleEnvelope))
	if !ok {
		t.Fatal("the fast path refused the sandbox's envelope")
	}
	slow, err := slowDecode([]byte(sampleEnvelope))
	if err != nil {
		t.Fatal(err)
	}
	if fast.Method != slow.Method || fast.Outcome != slow.Outcome || fast.Error != slow.Error || !bytes.Equal(fast.Result.Data, slow.Result.Data) {
		t.Fatalf("fast %+v\nslow %+v", fast, slow)
	}
	for _, odd := range []string{
		`<PartnerApiResponse method="X"><Outcome>1</Outcome><Error>a &amp; b</Error><Result/></PartnerApiResponse>`,
		`<PartnerApiResponse method="X"> <Outcome>1</Outcome><Error/></PartnerApiResponse>`,
		`<PartnerApiResponse method="X"><Outcome>1</Outcome><Error/><Result><![CDATA[x]]></Result></PartnerApiResponse>`,
	} {
		if _, ok := decodeEnvelopeFast([]byte(odd)); ok {
			t.Errorf("the fast path accepted %q, which needs encoding/xml", odd)
		}
		if _, err := DecodeEnvelope([]byte(odd)); err != nil {
			t.Errorf("DecodeEnvelope(%q) failed: %v", odd, err)
		}
	}
}

func TestSplitSessionListCutsEachSessionWhole(t *testing.T) {
	t.Parallel()
	env, _ := decodeEnvelopeFast([]byte(sampleEnvelope))
	raw, ok := SplitSessionList(env.Result.Data)
	if !ok || len(raw) != 2 {
		t.Fatalf("split = %d sessions, %v", len(raw), ok)
	}
	s, err := raw[1].Decode()
	if err != nil || s.DBID != 2 || s.Name != "Afternoon & evening" {
		t.Fatalf("second session = %+v, %v", s, err)
	}
	for _, odd := range []string{
		`<AppointmentSession id="1"></AppointmentSession>`,
		`<AppointmentSession><AppointmentSession></AppointmentSession></AppointmentSession>`,
		`<AppointmentSession></AppointmentSession>junk<AppointmentSession></AppointmentSession>`,
		`<AppointmentSession></AppointmentSession></AppointmentSession>`,
		`<AppointmentSession><Name>x</Name>`,
		`<AppointmentSession></AppointmentSession><!-- c -->`,
		`<?pi x?><AppointmentSession></AppointmentSession>`,
		`<AppointmentSession/>`,
	} {
		if _, ok := SplitSessionList([]byte(`<AppointmentSessionList>` + odd + `</AppointmentSessionList>`)); ok {
			t.Errorf("accepted %q", odd)
		}
	}
	// The element's name in text is text.
	raw, ok = SplitSessionList([]byte("<AppointmentSessionList> <AppointmentSession><Name>AppointmentSession&gt; AppointmentSession></Name></AppointmentSession>\n<AppointmentSession></AppointmentSession> </AppointmentSessionList>"))
	if !ok || len(raw) != 2 {
		t.Fatalf("text naming the element: %d sessions, %v", len(raw), ok)
	}
}

// Whenever the fast envelope reader accepts an answer, encoding/xml must read it the same way.
func FuzzFastEnvelopeAgreesWithEncodingXML(f *testing.F) {
	f.Add([]byte(sampleEnvelope))
	f.Add([]byte(`<PartnerApiResponse method="Logon"><Outcome>3</Outcome><Error>unsuccessful</Error><Result/></PartnerApiResponse>`))
	f.Add([]byte(`<PartnerApiResponse><Outcome>-2</Outcome><Error/></PartnerApiResponse>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeEnvelopeFast(body)
		if !ok {
			return
		}
		slow, err := slowDecode(body)
		if err != nil {
			// The fast path leaves the result's content to whoever decodes it; the fault must
			// be there, where that decoding will report it.
			var any struct {
				Inner []byte `xml:",innerxml"`
			}
			wrapped := append(append([]byte("<Result>"), fast.Result.Data...), "</Result>"...)
			if xml.Unmarshal(wrapped, &any) == nil && xml.Unmarshal([]byte(strconvHeaderless(body, fast)), &any) == nil {
				t.Fatalf("fast path accepted what encoding/xml rejects outside the result (%v): %q", err, body)
			}
			return
		}
		if fast.Method != slow.Method || fast.Outcome != slow.Outcome || fast.Error != slow.Error || !bytes.Equal(fast.Result.Data, slow.Result.Data) {
			t.Fatalf("disagreement on %q:\nfast %+v\nslow %+v", body, fast, slow)
		}
	})
}

// Whenever the splitter accepts a list that encoding/xml also reads, they agree element by element.
func FuzzSplitSessionListAgreesWithEncodingXML(f *testing.F) {
	env, _ := decodeEnvelopeFast([]byte(sampleEnvelope))
	f.Add(env.Result.Data)
	f.Add([]byte(`<AppointmentSessionList/>`))
	f.Add([]byte(`<AppointmentSessionList><AppointmentSession><DBID>7</DBID></AppointmentSession></AppointmentSessionList>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, ok := SplitSessionList(data)
		if !ok {
			return
		}
		var list SessionList
		if err := xml.Unmarshal(data, &list); err != nil {
			return // the splitter does not validate content; decoding each element will fail too
		}
		if len(raw) != len(list.Sessions) {
			t.Fatalf("split %d sessions, encoding/xml %d: %q", len(raw), len(list.Sessions), data)
		}
		for i, r := range raw {
			s, err := r.Decode()
			if err != nil {
				t.Fatalf("element %d does not decode alone: %v", i, err)
			}
			if !reflect.DeepEqual(s, list.Sessions[i]) {
				t.Fatalf("element %d: %+v vs %+v", i, s, list.Sessions[i])
			}
		}
	})
}

// strconvHeaderless rebuilds the envelope without its result, to check the rest is well formed.
func strconvHeaderless(body []byte, e *Envelope) string {
	return "<PartnerApiResponse><Outcome>1</Outcome><Error>" + e.Error + "</Error></PartnerApiResponse>"
}
