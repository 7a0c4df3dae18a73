package bench

import "regexp"

// chaosBooking is one appointment herolink told the partner about, as herolink answers for it
// once the run has settled.
type chaosBooking struct {
	ID        string
	Reference string // HL-..., written into the EMIS notes
	Acked     bool   // a 2xx answered its confirmation (book) or the reschedule that made it
	State     string // herolink's state at the end; "" when herolink no longer knows the id
}

// chaosCounts is the outcome of a chaos run, counted against the EMIS appointment book.
type chaosCounts struct {
	Acknowledged int
	Booked       int
	Placeholders int
	Failed       int
	Cancelled    int
	Lost         int
	Duplicated   int
	Stuck        int
}

// countChaos classifies every booking against the EMIS artefacts carrying each reference
// (appointments and placeholders alike):
//   - lost: acknowledged, herolink says booked or placeholder (or no longer knows it), and
//     EMIS holds nothing for it;
//   - duplicated: more than one artefact for one booking, an artefact for a booking herolink
//     says failed, or an artefact whose reference herolink does not know at all;
//   - stuck: not final after the settle time: still confirming (acknowledged or not, since a
//     partner whose answer was lost still has a booking), or cancelled in herolink while EMIS
//     still holds it (the cancellation never reached EMIS).
//
// The other figures count acknowledged bookings by herolink's final state.
func countChaos(bookings []chaosBooking, emis map[string]int) chaosCounts {
	var c chaosCounts
	known := make(map[string]bool, len(bookings))
	for _, b := range bookings {
		known[b.Reference] = true
		n := emis[b.Reference]
		dup := n > 1
		switch b.State {
		case "confirming":
			c.Stuck++
		case "cancelled":
			if n > 0 {
				c.Stuck++
			}
		case "failed":
			dup = dup || n > 0
		}
		if dup {
			c.Duplicated++
		}
		if !b.Acked {
			continue
		}
		c.Acknowledged++
		switch b.State {
		case "booked":
			c.Booked++
		case "placeholder":
			c.Placeholders++
		case "failed":
			c.Failed++
		case "cancelled":
			c.Cancelled++
		}
		if n == 0 && (b.State == "booked" || b.State == "placeholder" || b.State == "") {
			c.Lost++
		}
	}
	for ref, n := range emis {
		if n > 0 && !known[ref] {
			c.Duplicated++
		}
	}
	return c
}

// referenceInNotes finds herolink's booking reference in an EMIS slot's notes.
var referenceInNotes = regexp.MustCompile(`HL-[0-9A-Z]{8}`)

// emisArtefacts counts the booked slots carrying each reference, from the notes of every slot
// in the appointment book.
func emisArtefacts(notes []string) map[string]int {
	out := map[string]int{}
	for _, n := range notes {
		if ref := referenceInNotes.FindString(n); ref != "" {
			out[ref]++
		}
	}
	return out
}
