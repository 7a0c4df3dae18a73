// Package bookinglink is patient booking links: a URL (/book/{token}) a partner (through the
// API's booking_links scope) or the practice's staff send to a patient, who then books through
// herolink's own pages. The token carries 256 random bits and is stored only as its SHA-256; a
// link for one patient asks for the date of birth first and locks after LockAfter wrong answers
// (counted in the database, so every instance sees them); an open link asks for the patient's
// details. Bookings go through the booking core (booking.Service Reserve, Book, Cancel) as the
// partner that made the link, so matching, placeholders, write-back and webhooks are the
// partner API's own.
package bookinglink
