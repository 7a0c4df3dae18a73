package emis

import (
	"strings"
	"testing"
)

// BenchmarkPlainSlotListDecode reads an 18-slot session's slot list, a third booked: what a first
// sync decodes about 110 times a practice.
func BenchmarkPlainSlotListDecode(b *testing.B) {
	booked := sampleSlots[len("<SlotList>") : strings.Index(sampleSlots, "</Slot>")+len("</Slot>")]
	free := `<Slot><DBID>2900198250001</DBID><GUID>1b4e28ba-2fa1-11d2-883f-0016d3cca427</GUID><SessionGUID>1b4e28ba-2fa1-11d2-883f-0016d3cca400</SessionGUID><SessionDBID>2900198250</SessionDBID><Date>2026-11-24</Date><StartTime>08:40</StartTime><SlotLength>10</SlotLength><Type><TypeID>1</TypeID><Description>Routine</Description></Type><Status>Available</Status><Notes></Notes><Reason></Reason></Slot>`
	data := []byte("<SlotList>" + strings.Repeat(booked+free+free, 6) + "</SlotList>")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if s, ok := decodeSlotListPlain(data); !ok || len(s) != 18 {
			b.Fatalf("decoded %d slots, ok %v", len(s), ok)
		}
	}
}
