package web

import "net/http"

// bookingLinkRoutes are the patient's pages (book.go) and the staff's (bookinglinks_staff.go).
func (s *server) bookingLinkRoutes(mux *http.ServeMux) {
	public := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			// The token is in the path: never send it to another site.
			w.Header().Set("Referrer-Policy", "no-referrer")
			h(w, r)
		})
	}
	mux.Handle("GET /book/{token}", public(s.bookPage))
	mux.Handle("POST /book/{token}", public(s.bookAnswer))
	mux.Handle("POST /book/{token}/hold", public(s.bookHold))
	mux.Handle("POST /book/{token}/confirm", public(s.bookConfirm))
	mux.Handle("POST /book/{token}/cancel", public(s.bookCancel))
	mux.Handle("GET /book/{token}/appointment.ics", public(s.bookICS))
	mux.Handle("GET /admin/practices/{id}/booking-links", s.practiceForm(s.bookingLinksPage))
	mux.Handle("POST /admin/practices/{id}/booking-links", s.practiceForm(s.formCreateBookingLink))
	mux.Handle("POST /admin/practices/{id}/booking-links/{lid}/unlock", s.practiceForm(s.formUnlockBookingLink))
	mux.Handle("POST /admin/practices/{id}/booking-links/{lid}/revoke", s.practiceForm(s.formRevokeBookingLink))
}
