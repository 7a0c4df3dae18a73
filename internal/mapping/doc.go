// Package mapping is the sync setup of a connected practice: what herolink needs to know
// before bookings can flow between its patients and the practice's EMIS appointment book.
//
//   - A copy of the practice's EMIS appointment configuration (sites, session holders, slot
//     types) as last read with GetAppointmentConfiguration, refreshed on request.
//   - herolink's own practitioners and locations, each mapped to at most one EMIS session holder
//     or site and each holder or site to at most one of them (1:1; unmapped is platform-only).
//     They can be typed in or imported from EMIS in one action.
//   - A feature for each EMIS slot type: Bookable (offered to patients, published as an
//     appointment type staff can rename), Not Bookable, or Unregistered Patient Booking (exactly
//     one type, normally the guide's "Hero unregistered patient", which is proposed; never
//     offered). Types not reviewed yet are not offered.
//   - A readiness list that says, in plain words, what is still missing.
//
// The rules are checked here to give messages a practice manager can act on, and enforced again
// by the database (partial unique indexes, foreign keys) so no path around this package can
// break them. Every change is written to the audit trail in the same transaction.
package mapping
