package emis

import "fmt"

// The setup guide's words for the repairs of the unregistered-patient slot type (its Step 3),
// shared by the connection test, health, readiness and the write-back so that every surface
// tells the practice the same thing.

// GuideAddUnregisteredSlotType says how to create the slot type, as the guide does.
const GuideAddUnregisteredSlotType = "Open the appointment book, click Appts config in the menu at the top, choose Slot types on the side of the window, click Add and name the new slot type \"" +
	UnregisteredSlotTypeName + "\", with Bookable ticked."

// GuideTickBookable says how to make an existing slot type bookable again.
func GuideTickBookable(name string) string {
	return fmt.Sprintf("Open the appointment book, click Appts config in the menu at the top, choose Slot types on the side of the window, select %q and tick Bookable.", name)
}
