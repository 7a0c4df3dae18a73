package api

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"herolink/internal/booking"
)

// The slot list is the partner API's hottest answer. It is written by hand rather than by
// encoding/json's reflection, byte for byte what json.Marshal of listOf(slotJSON...) gives
// (TestTheSlotListEncoderWritesWhatEncodingJSONWould holds it to that).

// writeBody writes an encoded JSON answer with 200.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// appendSlotList writes {"data":[...],"count":n,"next_cursor":...} for the slots.
func appendSlotList(b []byte, slots []booking.Slot, next string) []byte {
	b = append(b, `{"data":[`...)
	for i, sl := range slots {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSlot(b, sl)
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(len(slots)), 10)
	if next != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, next)
	}
	return append(b, '}')
}

func appendSlot(b []byte, sl booking.Slot) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, sl.ID)
	b = append(b, `,"practice_id":"`...)
	b = strconv.AppendInt(b, sl.PracticeID, 10)
	b = append(b, `","start":`...)
	b = appendTime(b, sl.StartAt)
	b = append(b, `,"end":`...)
	b = appendTime(b, sl.EndAt)
	b = append(b, `,"appointment_type_id":`...)
	b = appendOptional(b, sl.AppointmentTypeID)
	b = append(b, `,"location_id":`...)
	b = appendOptional(b, sl.LocationID)
	b = append(b, `,"practitioner_ids":[`...)
	for i, id := range sl.PractitionerIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, id)
	}
	return append(b, "]}"...)
}

// appendTime is mustTime's string: RFC 3339 in London, "" for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, `""`...)
	}
	b = append(b, '"')
	b = t.In(london).AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendOptional is str's pointer: null for "".
func appendOptional(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does: HTML-safe (<, >, & escaped), U+2028 and
// U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
