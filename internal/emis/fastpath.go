package emis

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"unicode/utf8"
)

// The sync reads tens of megabytes of session lists a second at national scale; decoding every
// answer with encoding/xml would need more than the machine. These byte-level readers handle the
// envelope and the session list as EMIS sends them, and give up (the caller then uses
// encoding/xml) on anything unusual, so they are a shortcut, never a second interpretation.

var (
	tagRespOpen   = []byte("<PartnerApiResponse")
	tagOutcome    = []byte("<Outcome>")
	tagOutcomeEnd = []byte("</Outcome>")
	tagError      = []byte("<Error>")
	tagErrorEnd   = []byte("</Error>")
	tagErrorEmpty = []byte("<Error/>")
	tagResult     = []byte("<Result>")
	tagResultEnd  = []byte("</Result>")
	tagResultNone = []byte("<Result/>")
	tagRespEnd    = []byte("</PartnerApiResponse>")
	methodAttr    = []byte(`method="`)
)

// decodeEnvelopeFast reads the envelope the way the sandbox writes it: an optional XML
// declaration, <PartnerApiResponse method="...">, then Outcome, Error and Result in that order.
// ok is false for anything else.
func decodeEnvelopeFast(body []byte) (env *Envelope, ok bool) {
	b := bytes.TrimSpace(body)
	if !utf8.Valid(b) {
		return nil, false
	}
	if bytes.HasPrefix(b, []byte("<?xml")) {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 || !utf8Declaration(b[:end+2]) {
			return nil, false // another encoding, or anything unusual: encoding/xml decides
		}
		b = bytes.TrimSpace(b[end+2:])
	}
	if !bytes.HasPrefix(b, tagRespOpen) || !bytes.HasSuffix(b, tagRespEnd) {
		return nil, false
	}
	open := bytes.IndexByte(b, '>')
	if open < 0 {
		return nil, false
	}
	e := &Envelope{}
	// The tag is exactly <PartnerApiResponse> or <PartnerApiResponse method="...">.
	attrs := b[len(tagRespOpen):open]
	if len(attrs) > 0 {
		if attrs[0] != ' ' {
			return nil, false
		}
		attrs = bytes.TrimSpace(attrs)
		if !bytes.HasPrefix(attrs, methodAttr) || !bytes.HasSuffix(attrs, []byte(`"`)) || len(attrs) < len(methodAttr)+1 {
			return nil, false
		}
		name := attrs[len(methodAttr) : len(attrs)-1]
		if bytes.ContainsAny(name, "\"&<>\t\r\n") || !xmlText(name) {
			return nil, false
		}
		e.Method = string(name)
	}
	b = b[open+1 : len(b)-len(tagRespEnd)]
	// Outcome
	if !bytes.HasPrefix(b, tagOutcome) {
		return nil, false
	}
	end := bytes.Index(b, tagOutcomeEnd)
	if end < 0 {
		return nil, false
	}
	n, err := strconv.Atoi(string(b[len(tagOutcome):end]))
	if err != nil || n == 0 {
		return nil, false
	}
	e.Outcome = Outcome(n)
	b = b[end+len(tagOutcomeEnd):]
	// Error: plain text only; anything with markup or entities goes the slow way.
	switch {
	case bytes.HasPrefix(b, tagErrorEmpty):
		b = b[len(tagErrorEmpty):]
	case bytes.HasPrefix(b, tagError):
		end := bytes.Index(b, tagErrorEnd)
		if end < 0 {
			return nil, false
		}
		text := b[len(tagError):end]
		if bytes.ContainsAny(text, "<&") || !xmlText(text) {
			return nil, false
		}
		e.Error = string(text)
		b = b[end+len(tagErrorEnd):]
	default:
		return nil, false
	}
	// Result: everything between <Result> and the last </Result>.
	switch {
	case len(b) == 0, bytes.Equal(b, tagResultNone):
	case bytes.HasPrefix(b, tagResult) && bytes.HasSuffix(b, tagResultEnd):
		inner := b[len(tagResult) : len(b)-len(tagResultEnd)]
		if markupAfter(inner, '!') {
			return nil, false
		}
		e.Result.Data = inner
	default:
		return nil, false
	}
	return e, true
}

// RawSession is one AppointmentSession element exactly as EMIS sent it. Comparing its bytes (or
// their hash) with the previous answer tells whether anything about the session changed without
// decoding it.
type RawSession []byte

var (
	tagListOpen  = []byte("<AppointmentSessionList>")
	tagListEnd   = []byte("</AppointmentSessionList>")
	tagListEmpty = []byte("<AppointmentSessionList/>")
	tagSessOpen  = []byte("<AppointmentSession>")
)

// SplitSessionList cuts a GetAppointmentSessions result into its session elements. It accepts
// only the plain form (no attributes, comments or CDATA); ok is false otherwise and the caller
// decodes the whole list with encoding/xml.
func SplitSessionList(result []byte) (sessions []RawSession, ok bool) {
	b := bytes.TrimSpace(result)
	if len(b) == 0 || bytes.Equal(b, tagListEmpty) {
		return nil, true
	}
	if !bytes.HasPrefix(b, tagListOpen) || !bytes.HasSuffix(b, tagListEnd) {
		return nil, false
	}
	b = bytes.TrimSpace(b[len(tagListOpen) : len(b)-len(tagListEnd)])
	if markupAfter(b, '!') || markupAfter(b, '?') {
		return nil, false
	}
	// One scan for the element's name without its '<': that is rarer than '<', which XML has
	// every few bytes, so the search runs on its fast path. Each hit is an opening tag, a
	// closing tag, or text (ignored); sessions must follow each other with only whitespace
	// between, never nested.
	name := tagSessOpen[1:] // "AppointmentSession>"
	start, after := -1, 0   // the open session's first byte; the end of the last one
	for i := 0; ; {
		j := bytes.Index(b[i:], name)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(name)
		switch {
		case at >= 2 && b[at-2] == '<' && b[at-1] == '/':
			if start < 0 {
				return nil, false
			}
			sessions = append(sessions, RawSession(b[start:i]))
			start, after = -1, i
		case at >= 1 && b[at-1] == '<':
			if start >= 0 || len(bytes.TrimSpace(b[after:at-1])) != 0 {
				return nil, false // nested, or something between two sessions
			}
			start = at - 1
		}
	}
	if start >= 0 || after != len(b) {
		return nil, false
	}
	return sessions, true
}

// Decode decodes one raw session element.
func (r RawSession) Decode() (Session, error) {
	if s, ok := decodeSessionPlain(r); ok {
		return s, nil
	}
	var s Session
	err := xml.Unmarshal(r, &s)
	return s, err
}

// SessionsToRaw re-encodes decoded sessions, for answers that only the slow path could read.
func SessionsToRaw(ss []Session) []RawSession {
	out := make([]RawSession, 0, len(ss))
	for _, s := range ss {
		data, err := xml.Marshal(struct {
			XMLName xml.Name `xml:"AppointmentSession"`
			Session
		}{Session: s})
		if err == nil {
			out = append(out, data)
		}
	}
	return out
}

// xmlText reports whether b holds only characters XML allows in text (no control characters
// but tab, newline and carriage return).
func xmlText(b []byte) bool {
	// Byte by byte, not ranging over string(b): that conversion allocated a copy of every
	// text a first sync reads.
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError {
			return false
		}
		i += size
	}
	return true
}

// utf8Declaration accepts the XML declarations a UTF-8 answer carries.
func utf8Declaration(d []byte) bool {
	switch string(bytes.ToLower(d)) {
	case `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="utf-8"?>`:
		return true
	}
	return false
}

// markupAfter says whether b has c right after a '<' ("<!" opens a comment, CDATA or a
// declaration, "<?" a processing instruction). It looks for c, which is rare in EMIS's XML,
// rather than for '<', which is every few bytes: bytes.Contains(b, "<!") cost more than all
// the rest of reading a session list.
func markupAfter(b []byte, c byte) bool {
	for i := 1; i < len(b); {
		j := bytes.IndexByte(b[i:], c)
		if j < 0 {
			return false
		}
		if b[i+j-1] == '<' {
			return true
		}
		i += j + 1
	}
	return false
}
