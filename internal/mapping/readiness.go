package mapping

import (
	"context"
	"fmt"

	"herolink/internal/store"
)

// Keys of the readiness items, in the order they are listed.
const (
	ItemConnection    = "connection"
	ItemPractitioners = "practitioners"
	ItemLocations     = "locations"
	ItemUnregistered  = "unregistered_slot_type"
	ItemBookable      = "bookable_slot_type"
	ItemFirstSync     = "first_sync"
)

// Item is one thing bookings need.
type Item struct {
	Key   string
	Title string // what must be true, as a statement
	Done  bool
	ToDo  string // what to do about it, in plain words; empty when done
	// Why is what is wrong and its fix, when herolink knows more than the title says (the
	// connection's failure, the unregistered slot type deleted or not bookable in EMIS).
	Why Reason
	// Note is a warning on a done item: it works, but the practice should know.
	Note string
}

// Readiness says what is still missing before bookings can flow. Ready when every item is done.
type Readiness struct {
	Items []Item
	Ready bool
	// Warnings do not stop bookings but change what the practice sees (a renamed slot type).
	Warnings []Reason
}

// Reasons lists why bookings cannot flow, one per item not done, with a stable code.
func (r Readiness) Reasons() []Reason {
	out := []Reason{}
	for _, it := range r.Missing() {
		why := it.Why
		if why.Code == "" {
			why = Reason{Code: it.Key + "_missing", Message: "Not done yet: " + it.Title + ".", Fix: it.ToDo}
		}
		out = append(out, why)
	}
	return out
}

// Missing lists the items not done yet.
func (r Readiness) Missing() []Item {
	var out []Item
	for _, it := range r.Items {
		if !it.Done {
			out = append(out, it)
		}
	}
	return out
}

// Readiness checks a practice's sync setup: a healthy connection, a mapped practitioner and
// location, exactly one usable slot type for unregistered patients, a Bookable slot type, and
// the first sync finished.
func (s *Service) Readiness(ctx context.Context, practiceID int64) (Readiness, error) {
	su, err := s.Setup(ctx, practiceID)
	return su.Readiness, err
}

func readiness(su Setup, sync store.SyncStatus) Readiness {
	items := []Item{
		connectionItem(su.Practice),
		recordsItem(su, Practitioners),
		recordsItem(su, Locations),
		unregisteredItem(su),
		bookableItem(su),
		firstSyncItem(sync),
	}
	r := Readiness{Items: items, Ready: true, Warnings: []Reason{}}
	for _, it := range items {
		r.Ready = r.Ready && it.Done
	}
	if why, blocking, ok := UnregisteredCondition(slotTypesOf(su)); ok && !blocking && why.Code != "" {
		r.Warnings = append(r.Warnings, why)
	}
	return r
}

func connectionItem(p store.Practice) Item {
	it := Item{Key: ItemConnection, Title: "The EMIS connection is healthy", Done: p.HealthStatus == store.HealthConnected}
	found := ""
	if p.HealthReason != "" {
		found = " What herolink found: " + p.HealthReason
	}
	switch p.HealthStatus {
	case store.HealthConnected:
	case store.HealthFailing:
		it.ToDo = "Fix the EMIS connection, then check it again from the practice page." + found
		it.Why = Reason{Code: "connection_failing", Message: "The EMIS connection is failing, so bookings cannot be written.", Fix: p.HealthReason}
	case store.HealthDegraded:
		it.ToDo = "EMIS is not answering reliably; herolink keeps trying. If this lasts more than an hour, contact herolink support." + found
		it.Why = Reason{Code: "connection_degraded", Message: "EMIS is not answering reliably." + found, Fix: "herolink keeps trying. If this lasts more than an hour, contact herolink support."}
	default:
		it.ToDo = "Connect the practice to EMIS: fill in the connection form with the Herouser's API password."
	}
	return it
}

// recordsItem is done when a record of the kind is mapped to an EMIS entry EMIS still lists.
func recordsItem(su Setup, k *RecordKind) Item {
	it := Item{Key: k.readyKey, Title: k.readyTitle}
	for _, r := range su.Records(k) {
		if r.EMIS != nil && !r.EMIS.Gone {
			it.Done = true
		}
	}
	switch {
	case it.Done:
	case len(su.Choices(k)) == 0:
		it.ToDo = k.readyRefresh
	default:
		it.ToDo = k.readyMap
	}
	return it
}

func unregisteredItem(su Setup) Item {
	it := Item{Key: ItemUnregistered, Title: "Exactly one slot type is for unregistered patients"}
	if why, blocking, ok := UnregisteredCondition(slotTypesOf(su)); ok {
		if blocking {
			it.Why, it.ToDo = why, why.Message+" "+why.Fix
		} else {
			it.Done = true
			if why.Code != "" {
				it.Note = why.Message + " " + why.Fix
			}
		}
		return it
	}
	switch p := su.Proposed(); {
	case p != nil && !p.EMISBookable:
		it.ToDo = fmt.Sprintf("EMIS marks the slot type %q as not bookable. Tick Bookable for it in EMIS (Appts config → Slot types), refresh from EMIS, then set it to Unregistered Patient Booking.", p.Name)
	case p != nil:
		it.ToDo = fmt.Sprintf("Set the slot type %q to Unregistered Patient Booking (proposed). It reserves the time in EMIS when a patient cannot be matched.", p.Name)
	case len(su.SlotTypes) == 0:
		it.ToDo = "Refresh from EMIS to read the practice's slot types, then set the \"Hero unregistered patient\" slot type to Unregistered Patient Booking."
	default:
		it.ToDo = "Create the slot type \"Hero unregistered patient\" in EMIS (Appts config → Slot types, Bookable ticked), refresh from EMIS, then set it to Unregistered Patient Booking."
	}
	it.Why = Reason{Code: CodeUnregisteredNotSet, Message: "No slot type is set for unregistered patients, so herolink could not reserve the time of a patient it cannot match.", Fix: it.ToDo}
	return it
}

func slotTypesOf(su Setup) []store.EMISSlotType {
	out := make([]store.EMISSlotType, len(su.SlotTypes))
	for i, t := range su.SlotTypes {
		out[i] = t.EMISSlotType
	}
	return out
}

func bookableItem(su Setup) Item {
	it := Item{Key: ItemBookable, Title: "At least one slot type is offered to patients"}
	for _, t := range su.SlotTypes {
		if t.Feature == store.FeatureBookable && t.EMISBookable && !t.Gone {
			it.Done = true
		}
	}
	switch {
	case it.Done:
	case len(su.SlotTypes) == 0:
		it.ToDo = "Refresh from EMIS to read the practice's slot types, then set the ones patients may book to Bookable."
	default:
		it.ToDo = "Set the slot types patients may book online to Bookable. Slot types not set are not offered."
	}
	return it
}

func firstSyncItem(sync store.SyncStatus) Item {
	it := Item{Key: ItemFirstSync, Title: "The first sync of the EMIS diary has finished", Done: sync.FirstSyncDone}
	switch {
	case it.Done:
	case sync.ProgressTotal > 0:
		it.ToDo = fmt.Sprintf("Wait for the first sync to finish: %d of %d sessions read so far. It carries on by itself.", sync.ProgressDone, sync.ProgressTotal)
	case sync.LastError != "":
		it.ToDo = "The last sync attempt failed (" + sync.LastError + "). herolink tries again by itself; fix the connection if it is not healthy."
	default:
		it.ToDo = "Wait for the first sync of the diary. It starts by itself once the practice is connected and takes a few minutes."
	}
	return it
}
