package sandbox

import (
	"encoding/xml"
	"strconv"
	"sync"

	"herolink/internal/emis"
)

// The two answers the sync asks for thousands of times a second (a practice's session list and
// a session's slots) are written by hand: encoding/xml's reflection cost about 1 ms of CPU a
// call, more than all the rest of the sandbox. The output is byte for byte what xml.Marshal
// writes for the same structs; TestHandEncodingMatchesEncodingXML holds it to that.

// appendEnvelope writes a whole Partner API answer.
func appendEnvelope(b []byte, method string, a answer) ([]byte, error) {
	b = append(b, xml.Header...)
	b = append(b, `<PartnerApiResponse method="`...)
	b = appendEscaped(b, method)
	b = append(b, `"><Outcome>`...)
	b = strconv.AppendInt(b, int64(a.outcome), 10)
	b = append(b, `</Outcome><Error>`...)
	b = appendEscaped(b, a.text)
	b = append(b, `</Error><Result>`...)
	switch r := a.result.(type) {
	case nil:
	case emis.SessionList:
		b = appendSessionList(b, r)
	case emis.SlotList:
		b = appendSlotList(b, r)
	default:
		data, err := xml.Marshal(r)
		if err != nil {
			return nil, err
		}
		b = append(b, data...)
	}
	return append(b, `</Result></PartnerApiResponse>`...), nil
}

func appendSessionList(b []byte, l emis.SessionList) []byte {
	b = append(b, "<AppointmentSessionList>"...)
	for i := range l.Sessions {
		b = appendSession(b, &l.Sessions[i])
	}
	return append(b, "</AppointmentSessionList>"...)
}

func appendSession(b []byte, s *emis.Session) []byte {
	b = append(b, "<AppointmentSession>"...)
	b = appendIntElem(b, "DBID", s.DBID)
	b = appendElem(b, "GUID", s.GUID)
	b = appendElem(b, "Name", s.Name)
	b = appendElem(b, "Date", s.Date)
	b = appendElem(b, "StartTime", s.StartTime)
	b = appendElem(b, "EndTime", s.EndTime)
	b = appendIntElem(b, "SlotLength", int64(s.SlotLength))
	b = append(b, "<Site>"...)
	b = appendIntElem(b, "DBID", s.Site.DBID)
	b = appendElem(b, "Name", s.Site.Name)
	if s.Site.Postcode != "" {
		b = appendElem(b, "Postcode", s.Site.Postcode)
	}
	b = append(b, "</Site><HolderList>"...)
	for _, h := range s.Holders {
		b = append(b, "<Holder>"...)
		b = appendIntElem(b, "DBID", h.DBID)
		b = appendElem(b, "Title", h.Title)
		b = appendElem(b, "FirstNames", h.FirstNames)
		b = appendElem(b, "LastName", h.LastName)
		if h.JobCategory != "" {
			b = appendElem(b, "JobCategory", h.JobCategory)
		}
		b = append(b, "</Holder>"...)
	}
	b = append(b, "</HolderList><SlotTypeList>"...)
	for _, c := range s.SlotTypes {
		b = append(b, "<SlotType>"...)
		b = appendIntElem(b, "TypeID", int64(c.TypeID))
		b = appendElem(b, "Description", c.Description)
		b = appendIntElem(b, "Total", int64(c.Total))
		b = appendIntElem(b, "Booked", int64(c.Booked))
		b = appendIntElem(b, "Blocked", int64(c.Blocked))
		b = appendIntElem(b, "Embargoed", int64(c.Embargoed))
		b = appendIntElem(b, "Available", int64(c.Available))
		b = append(b, "</SlotType>"...)
	}
	return append(b, "</SlotTypeList></AppointmentSession>"...)
}

func appendSlotList(b []byte, l emis.SlotList) []byte {
	b = append(b, "<SlotList>"...)
	for i := range l.Slots {
		b = appendSlot(b, &l.Slots[i])
	}
	return append(b, "</SlotList>"...)
}

func appendSlot(b []byte, s *emis.Slot) []byte {
	b = append(b, "<Slot>"...)
	b = appendIntElem(b, "DBID", s.DBID)
	b = appendElem(b, "GUID", s.GUID)
	b = appendElem(b, "SessionGUID", s.SessionGUID)
	b = appendIntElem(b, "SessionDBID", s.SessionDBID)
	b = appendElem(b, "Date", s.Date)
	b = appendElem(b, "StartTime", s.StartTime)
	b = appendIntElem(b, "SlotLength", int64(s.SlotLength))
	b = append(b, "<Type>"...)
	b = appendIntElem(b, "TypeID", int64(s.Type.TypeID))
	b = appendElem(b, "Description", s.Type.Description)
	b = append(b, "</Type>"...)
	b = appendElem(b, "Status", s.Status)
	if s.AppointmentStatus != "" {
		b = appendElem(b, "AppointmentStatus", s.AppointmentStatus)
	}
	b = append(b, "<PatientList>"...)
	for _, p := range s.Patients {
		b = append(b, "<Patient>"...)
		b = appendIntElem(b, "DBID", p.DBID)
		b = appendElem(b, "NhsNumber", p.NhsNumber)
		b = appendElem(b, "FamilyName", p.FamilyName)
		b = appendElem(b, "FirstNames", p.FirstNames)
		b = append(b, "</Patient>"...)
	}
	b = append(b, "</PatientList>"...)
	b = appendElem(b, "Notes", s.Notes)
	b = appendElem(b, "Reason", s.Reason)
	if s.BookedBy != "" {
		b = appendElem(b, "BookedBy", s.BookedBy)
	}
	return append(b, "</Slot>"...)
}

func appendElem(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = appendEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func appendIntElem(b []byte, name string, v int64) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = strconv.AppendInt(b, v, 10)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendEscaped copies plain text that needs no escaping as it is, and leaves anything else
// (markup characters, control characters, non-ASCII) to xml.EscapeText, so that the rules
// are exactly encoding/xml's.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' {
			w := appendWriter{b: b}
			_ = xml.EscapeText(&w, []byte(s))
			return w.b
		}
	}
	return append(b, s...)
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// answerBuffers recycles answer buffers: a 14-day session list is about 110 KB.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}
