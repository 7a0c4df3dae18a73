package emis

import (
	"bytes"
	"strconv"
	"sync"
	"unicode/utf8"
)

// plainNode is an element of "plain" XML: elements and text only, no attributes, comments,
// CDATA, processing instructions or mixed content. EMIS Open answers are written that way;
// reading them without encoding/xml's reflection is several times cheaper, which matters for
// the first sync of thousands of practices (hundreds of thousands of slot lists).
type plainNode struct {
	name     []byte
	text     []byte // unescaped; nil for an element with children
	children []plainNode
}

// plainParsers holds parsers whose stack and slab are reused: a first sync reads hundreds of
// thousands of slot lists, and their trees were a third of the bytes it allocated.
var plainParsers = sync.Pool{New: func() any { return new(plainParser) }}

// withPlain parses b, one plain element filling the whole input, with a pooled parser and
// hands the tree to read; ok is false for anything outside the plain subset (the caller then
// uses encoding/xml). What read returns must not refer to the tree's bytes or nodes (strings
// made from them are copies): once read returns, the nodes are cleared and reused.
func withPlain[T any](b []byte, read func(root plainNode) (T, bool)) (T, bool) {
	p := plainParsers.Get().(*plainParser)
	defer p.release()
	root, ok := p.parse(b)
	if !ok {
		var zero T
		return zero, false
	}
	return read(root)
}

// parse reads b into a tree whose nodes live in p's slab until the next parse or release.
func (p *plainParser) parse(b []byte) (plainNode, bool) {
	b = bytes.TrimSpace(b)
	if !utf8.Valid(b) {
		return plainNode{}, false
	}
	// About one element every 24 bytes in EMIS's answers: the slab rarely needs a second.
	if need := len(b)/24 + 8; cap(p.slab) < need {
		p.slab = make([]plainNode, 0, need)
	}
	if p.stack == nil {
		p.stack = make([]plainNode, 0, 32)
	}
	p.b, p.i = b, 0
	n, ok := p.element(0)
	if !ok || len(bytes.TrimSpace(p.b[p.i:])) != 0 {
		return plainNode{}, false
	}
	return n, true
}

// release clears what the parser points into (the input, the nodes) and returns it to the
// pool; a slab grown past a large answer's needs is dropped rather than kept.
func (p *plainParser) release() {
	if cap(p.slab) > maxPooledSlab {
		p.slab = nil
	} else {
		clear(p.slab) // the nodes placed; a slab outgrown during the parse is garbage already
		p.slab = p.slab[:0]
	}
	clear(p.stack[:cap(p.stack)])
	p.stack = p.stack[:0]
	p.b, p.i = nil, 0
	plainParsers.Put(p)
}

// maxPooledSlab bounds a pooled parser's slab (72 bytes a node): answers of several hundred
// kilobytes are rare, and keeping their slabs would hold megabytes for every parser in flight.
const maxPooledSlab = 16 << 10

type plainParser struct {
	b []byte
	i int
	// stack holds the children of the elements being read, innermost last; a finished
	// element's children are copied to slab, which the whole tree shares. A slice of sixteen
	// for every element, grown as needed, was two thirds of reading a slot list.
	stack []plainNode
	slab  []plainNode
}

// childrenFrom moves the children stacked since mark into the slab, exactly sized.
func (p *plainParser) childrenFrom(mark int) []plainNode {
	k := len(p.stack) - mark
	if k == 0 {
		return []plainNode{}
	}
	if cap(p.slab)-len(p.slab) < k {
		// The nodes already placed stay where they are (the tree points at them); the next
		// parse starts with the larger slab.
		p.slab = make([]plainNode, 0, max(k, 64, 2*cap(p.slab)))
	}
	at := len(p.slab)
	p.slab = append(p.slab, p.stack[mark:]...)
	p.stack = p.stack[:mark]
	return p.slab[at : at+k : at+k]
}

const maxPlainDepth = 16

func (p *plainParser) element(depth int) (plainNode, bool) {
	if depth > maxPlainDepth || p.i >= len(p.b) || p.b[p.i] != '<' {
		return plainNode{}, false
	}
	end := bytes.IndexByte(p.b[p.i:], '>')
	if end < 0 {
		return plainNode{}, false
	}
	tag := p.b[p.i+1 : p.i+end]
	p.i += end + 1
	selfClosing := len(tag) > 0 && tag[len(tag)-1] == '/'
	if selfClosing {
		tag = tag[:len(tag)-1]
	}
	if !plainName(tag) {
		return plainNode{}, false
	}
	n := plainNode{name: tag}
	if selfClosing {
		n.text = []byte{}
		return n, true
	}
	// Text content, or child elements (whitespace between them is ignored).
	start := p.i
	lt := bytes.IndexByte(p.b[p.i:], '<')
	if lt < 0 {
		return plainNode{}, false
	}
	if p.i+lt+1 < len(p.b) && p.b[p.i+lt+1] == '/' {
		text, ok := unescapePlain(p.b[start : p.i+lt])
		if !ok {
			return plainNode{}, false
		}
		p.i += lt
		if !p.closeTag(tag) {
			return plainNode{}, false
		}
		n.text = text
		return n, true
	}
	if len(bytes.TrimSpace(p.b[start:p.i+lt])) != 0 {
		return plainNode{}, false // mixed content
	}
	p.i += lt
	mark := len(p.stack)
	for {
		p.skipSpace()
		if p.i+1 < len(p.b) && p.b[p.i] == '<' && p.b[p.i+1] == '/' {
			if !p.closeTag(tag) {
				return plainNode{}, false
			}
			n.children = p.childrenFrom(mark)
			return n, true
		}
		child, ok := p.element(depth + 1)
		if !ok {
			return plainNode{}, false
		}
		p.stack = append(p.stack, child)
	}
}

func (p *plainParser) closeTag(name []byte) bool {
	want := len(name) + 3
	if p.i+want > len(p.b) || p.b[p.i] != '<' || p.b[p.i+1] != '/' || !bytes.Equal(p.b[p.i+2:p.i+2+len(name)], name) || p.b[p.i+want-1] != '>' {
		return false
	}
	p.i += want
	return true
}

func (p *plainParser) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\r' || p.b[p.i] == '\t') {
		p.i++
	}
}

// plainName accepts the ASCII names EMIS uses: a letter, then letters and digits.
func plainName(b []byte) bool {
	if len(b) == 0 || !(b[0] >= 'A' && b[0] <= 'Z' || b[0] >= 'a' && b[0] <= 'z') {
		return false
	}
	for _, c := range b[1:] {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// unescapePlain decodes XML's five named entities and decimal or hex character references;
// anything else (an unknown entity, a stray '&' or '>' or a control character) is refused.
func unescapePlain(b []byte) ([]byte, bool) {
	if !xmlText(b) || bytes.IndexByte(b, '>') >= 0 && bytes.Contains(b, []byte("]]>")) {
		return nil, false
	}
	if bytes.IndexByte(b, '&') < 0 {
		if bytes.IndexByte(b, '\r') >= 0 {
			return nil, false // XML normalises line ends; leave that to encoding/xml
		}
		return b, true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\r' {
			return nil, false
		}
		if c != '&' {
			out = append(out, c)
			continue
		}
		semi := bytes.IndexByte(b[i:], ';')
		if semi < 0 {
			return nil, false
		}
		ent := string(b[i+1 : i+semi])
		switch ent {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "apos":
			out = append(out, '\'')
		case "quot":
			out = append(out, '"')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return nil, false
			}
			var n uint64
			var err error
			if ent[1] == 'x' {
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			r := rune(n)
			if err != nil || !validXMLRune(r) {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
		}
		i += semi
	}
	return out, true
}

func validXMLRune(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// decodeSlotListPlain reads a SlotList in the plain subset. It refuses (ok false) anything
// it would read differently from encoding/xml: unknown or repeated fields, text where an
// element was expected, numbers that do not parse.
func decodeSlotListPlain(data []byte) (slots []Slot, ok bool) {
	return withPlain(data, slotListOf)
}

func slotListOf(root plainNode) (slots []Slot, ok bool) {
	if string(root.name) != "SlotList" || len(root.text) != 0 {
		return nil, false
	}
	slots = make([]Slot, 0, len(root.children))
	var same repeated
	for _, el := range root.children {
		if string(el.name) != "Slot" {
			return nil, false
		}
		s, ok := plainSlot(el, &same)
		if !ok {
			return nil, false
		}
		slots = append(slots, s)
	}
	return slots, true
}

// repeated keeps the last text of the fields a session's slots usually share (their date,
// session, status, type), so that each is one string for the whole list rather than one a
// slot: half the strings a first sync made.
type repeated struct{ date, session, status, apptStatus, typeName string }

// sameText is b as a string, *last when it reads the same (and *last becomes it otherwise).
func sameText(last *string, b []byte) string {
	if *last != string(b) { // compared without a copy
		*last = string(b)
	}
	return *last
}

func plainSlot(el plainNode, same *repeated) (Slot, bool) {
	s := Slot{}
	s.XMLName.Local = "Slot"
	var seen uint32
	for _, f := range el.children {
		name := string(f.name)
		bit, known := slotFieldBits[name]
		if !known || seen&bit != 0 {
			return Slot{}, false
		}
		seen |= bit
		var ok bool
		switch name {
		case "DBID":
			s.DBID, ok = plainInt(f)
		case "SessionDBID":
			s.SessionDBID, ok = plainInt(f)
		case "SlotLength":
			var n int64
			n, ok = plainInt(f)
			s.SlotLength = int(n)
		case "GUID", "SessionGUID", "Date", "StartTime", "Status", "AppointmentStatus", "Notes", "Reason", "BookedBy":
			if f.text == nil {
				return Slot{}, false
			}
			ok = true
			switch name {
			case "GUID":
				s.GUID = string(f.text)
			case "SessionGUID":
				s.SessionGUID = sameText(&same.session, f.text)
			case "Date":
				s.Date = sameText(&same.date, f.text)
			case "StartTime":
				s.StartTime = string(f.text)
			case "Status":
				s.Status = sameText(&same.status, f.text)
			case "AppointmentStatus":
				s.AppointmentStatus = sameText(&same.apptStatus, f.text)
			case "Notes":
				s.Notes = string(f.text)
			case "Reason":
				s.Reason = string(f.text)
			case "BookedBy":
				s.BookedBy = string(f.text)
			}
		case "Type":
			s.Type, ok = plainSlotType(f, same)
		case "PatientList":
			s.Patients, ok = plainPatients(f)
		default:
			return Slot{}, false
		}
		if !ok {
			return Slot{}, false
		}
	}
	return s, true
}

var slotFieldBits = func() map[string]uint32 {
	m := map[string]uint32{}
	for i, name := range []string{"DBID", "SessionDBID", "SlotLength", "GUID", "SessionGUID", "Date", "StartTime",
		"Status", "AppointmentStatus", "Notes", "Reason", "BookedBy", "Type", "PatientList"} {
		m[name] = 1 << i
	}
	return m
}()

func plainInt(n plainNode) (int64, bool) {
	if n.text == nil {
		return 0, false
	}
	if len(n.text) == 0 {
		return 0, true // encoding/xml leaves an empty number as zero
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(n.text)), 10, 64)
	return v, err == nil
}

func plainSlotType(n plainNode, same *repeated) (SlotTypeRef, bool) {
	var t SlotTypeRef
	if len(n.text) != 0 {
		return t, false
	}
	var seen uint8
	for _, f := range n.children {
		bit := uint8(1)
		if string(f.name) == "Description" {
			bit = 2
		}
		if seen&bit != 0 || f.text == nil {
			return t, false
		}
		seen |= bit
		switch string(f.name) {
		case "TypeID":
			v, ok := plainInt(f)
			if !ok || v != int64(int(v)) {
				return t, false
			}
			t.TypeID = int(v)
		case "Description":
			t.Description = sameText(&same.typeName, f.text)
		default:
			return t, false
		}
	}
	return t, true
}

func plainPatients(n plainNode) ([]PatientBrief, bool) {
	if len(n.text) != 0 {
		return nil, false
	}
	var out []PatientBrief
	for _, el := range n.children {
		if string(el.name) != "Patient" || len(el.text) != 0 {
			return nil, false
		}
		var p PatientBrief
		var seen uint8
		for _, f := range el.children {
			var bit uint8
			switch string(f.name) {
			case "DBID":
				bit = 1
			case "NhsNumber":
				bit = 2
			case "FamilyName":
				bit = 4
			case "FirstNames":
				bit = 8
			}
			if seen&bit != 0 || f.text == nil {
				return nil, false
			}
			seen |= bit
			switch string(f.name) {
			case "DBID":
				v, ok := plainInt(f)
				if !ok {
					return nil, false
				}
				p.DBID = v
			case "NhsNumber":
				p.NhsNumber = string(f.text)
			case "FamilyName":
				p.FamilyName = string(f.text)
			case "FirstNames":
				p.FirstNames = string(f.text)
			default:
				return nil, false
			}
		}
		out = append(out, p)
	}
	return out, true
}

// decodeSessionPlain reads one <AppointmentSession> element in the plain subset: a first sync
// decodes every session of the horizon, and encoding/xml cost about 100 µs each. ok is false
// for anything unusual (an unknown or repeated element, attributes, mixed content); the caller
// then uses encoding/xml, which FuzzPlainSessionAgreesWithEncodingXML holds this to.
func decodeSessionPlain(data []byte) (Session, bool) {
	return withPlain(data, sessionOf)
}

func sessionOf(root plainNode) (Session, bool) {
	if string(root.name) != "AppointmentSession" || len(root.text) != 0 {
		return Session{}, false
	}
	var s Session
	var seen uint16
	for _, f := range root.children {
		bit, known := sessionFieldBits[string(f.name)]
		if !known || seen&bit != 0 {
			return Session{}, false
		}
		seen |= bit
		ok := true
		switch string(f.name) {
		case "DBID":
			s.DBID, ok = plainInt(f)
		case "SlotLength":
			s.SlotLength, ok = plainSmallInt(f)
		case "GUID":
			s.GUID, ok = plainString(f)
		case "Name":
			s.Name, ok = plainString(f)
		case "Date":
			s.Date, ok = plainString(f)
		case "StartTime":
			s.StartTime, ok = plainString(f)
		case "EndTime":
			s.EndTime, ok = plainString(f)
		case "Site":
			s.Site, ok = plainSite(f)
		case "HolderList":
			s.Holders, ok = plainHolders(f)
		case "SlotTypeList":
			s.SlotTypes, ok = plainSlotCounts(f)
		}
		if !ok {
			return Session{}, false
		}
	}
	return s, true
}

var sessionFieldBits = func() map[string]uint16 {
	m := map[string]uint16{}
	for i, name := range []string{"DBID", "GUID", "Name", "Date", "StartTime", "EndTime", "SlotLength", "Site", "HolderList", "SlotTypeList"} {
		m[name] = 1 << i
	}
	return m
}()

func plainString(n plainNode) (string, bool) {
	if n.text == nil {
		return "", false
	}
	return string(n.text), true
}

func plainSmallInt(n plainNode) (int, bool) {
	v, ok := plainInt(n)
	if !ok || v != int64(int(v)) {
		return 0, false
	}
	return int(v), true
}

// plainFields reads an element's children as distinct named leaves: each is handed to set,
// which says whether it knows and accepts it.
func plainFields(n plainNode, set func(name string, f plainNode) bool) bool {
	if len(n.text) != 0 {
		return false
	}
	seen := make(map[string]bool, len(n.children))
	for _, f := range n.children {
		name := string(f.name)
		if seen[name] || f.text == nil || !set(name, f) {
			return false
		}
		seen[name] = true
	}
	return true
}

func plainSite(n plainNode) (Site, bool) {
	var s Site
	ok := plainFields(n, func(name string, f plainNode) (ok bool) {
		switch name {
		case "DBID":
			s.DBID, ok = plainInt(f)
		case "Name":
			s.Name, ok = plainString(f)
		case "Postcode":
			s.Postcode, ok = plainString(f)
		}
		return ok
	})
	return s, ok
}

// plainList reads a list element whose children are all named item, each read by one.
func plainList[T any](n plainNode, item string, one func(plainNode) (T, bool)) ([]T, bool) {
	if len(n.text) != 0 {
		return nil, false
	}
	var out []T
	for _, el := range n.children {
		if string(el.name) != item {
			return nil, false
		}
		v, ok := one(el)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func plainHolders(n plainNode) ([]Holder, bool) {
	return plainList(n, "Holder", func(el plainNode) (h Holder, ok bool) {
		ok = plainFields(el, func(name string, f plainNode) (ok bool) {
			switch name {
			case "DBID":
				h.DBID, ok = plainInt(f)
			case "Title":
				h.Title, ok = plainString(f)
			case "FirstNames":
				h.FirstNames, ok = plainString(f)
			case "LastName":
				h.LastName, ok = plainString(f)
			case "JobCategory":
				h.JobCategory, ok = plainString(f)
			}
			return ok
		})
		return h, ok
	})
}

func plainSlotCounts(n plainNode) ([]SessionSlotCount, bool) {
	return plainList(n, "SlotType", func(el plainNode) (c SessionSlotCount, ok bool) {
		ok = plainFields(el, func(name string, f plainNode) (ok bool) {
			switch name {
			case "TypeID":
				c.TypeID, ok = plainSmallInt(f)
			case "Description":
				c.Description, ok = plainString(f)
			case "Total":
				c.Total, ok = plainSmallInt(f)
			case "Booked":
				c.Booked, ok = plainSmallInt(f)
			case "Blocked":
				c.Blocked, ok = plainSmallInt(f)
			case "Embargoed":
				c.Embargoed, ok = plainSmallInt(f)
			case "Available":
				c.Available, ok = plainSmallInt(f)
			}
			return ok
		})
		return c, ok
	})
}
