package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"herolink/internal/booking"
	"herolink/internal/staff"
	"herolink/internal/store"
)

// The placeholders' JSON beside the Bookings page: errors are RFC 9457 problems, in the shape
// the partner API answers (type, title, status, detail, code, errors[]), written here because
// the admin side does not import the partner API.

type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Errors []fieldProblem `json:"errors,omitempty"`
	// For demographics_mismatch: what the patient typed and what the EMIS record holds.
	EMISNumber int64            `json:"emis_number,omitempty"`
	Typed      *booking.Details `json:"typed,omitempty"`
	Record     *booking.Details `json:"record,omitempty"`
	Disagree   []string         `json:"disagree,omitempty"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var problemTitles = map[string]string{
	"unauthenticated":                        "Sign in first",
	"forbidden":                              "Not allowed",
	"invalid_json":                           "Invalid JSON",
	"unsupported_media_type":                 "Unsupported media type",
	"internal_error":                         "Internal error",
	"conflict":                               "Conflict",
	"method_not_allowed":                     "Method not allowed",
	"emis_unavailable":                       "EMIS did not answer",
	string(booking.CodeInvalid):              "Validation failed",
	string(booking.CodeInvalidState):         "Invalid state",
	string(booking.CodeNotFound):             "Not found",
	string(booking.CodeEMISRecordNotFound):   "EMIS record not found",
	string(booking.CodeDemographicsMismatch): "Details disagree",
	string(booking.CodeNotBookedInEMIS):      "Not booked in EMIS",
}

func writeProblem(w http.ResponseWriter, p problem) {
	p.Type = "urn:herolink:problem:" + p.Code
	if p.Title == "" {
		p.Title = problemTitles[p.Code]
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func fail(w http.ResponseWriter, status int, code, detail string) {
	writeProblem(w, problem{Status: status, Code: code, Detail: detail})
}

// placeholderJSON requires a staff session allowed to see the practice in the path, answering
// problems when not: 401 without a session, 403 for another practice's user, 404.
func (s *server) placeholderJSON(h practiceHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.currentUser(r)
		if errors.Is(err, staff.ErrNoSession) {
			fail(w, http.StatusUnauthorized, "unauthenticated", "Sign in to herolink first.")
			return
		}
		if err != nil {
			s.log.Error("look up session", "path", r.URL.Path, "err", err)
			fail(w, http.StatusInternalServerError, "internal_error", serverTrouble)
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			fail(w, http.StatusNotFound, "not_found", "There is no practice at this address.")
			return
		}
		if u.Role != store.RoleSupport && u.PracticeID != id {
			fail(w, http.StatusForbidden, "forbidden", "Your herolink account is for one practice only, and this is not it.")
			return
		}
		p, err := s.cfg.Store.PracticeByID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			fail(w, http.StatusNotFound, "not_found", "There is no practice at this address.")
			return
		}
		if err != nil {
			s.log.Error("load practice", "path", r.URL.Path, "err", err)
			fail(w, http.StatusInternalServerError, "internal_error", serverTrouble)
			return
		}
		if s.cfg.Booking == nil {
			fail(w, http.StatusNotFound, "not_found", "Bookings are not enabled on this server.")
			return
		}
		h(w, r, u, p)
	})
}

type linkJSONRequest struct {
	EMISNumber      *int64 `json:"emis_number"`
	ConfirmMismatch bool   `json:"confirm_mismatch"`
	Reason          string `json:"reason"`
}

type linkJSONAnswer struct {
	AppointmentID string          `json:"appointment_id"`
	Reference     string          `json:"reference"`
	EMISNumber    int64           `json:"emis_number"`
	Status        string          `json:"status"` // "linking": herolink is booking it into EMIS
	Detail        string          `json:"detail"`
	Typed         booking.Details `json:"typed"`
	Record        booking.Details `json:"record"`
	Disagree      []string        `json:"disagree"`
}

// linkPlaceholderJSON is POST /admin/practices/{id}/placeholders/{aid}/link.
func (s *server) linkPlaceholderJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if u.Role == store.RoleSupport {
		fail(w, http.StatusForbidden, "forbidden", "Only the practice's own staff link a patient to an EMIS record.")
		return
	}
	if ct := r.Header.Get("Content-Type"); !isJSONContentType(ct) {
		fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the request as application/json.")
		return
	}
	var req linkJSONRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "invalid_json", "The body must be one JSON object {emis_number, confirm_mismatch, reason}: "+jsonErrorText(err))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		fail(w, http.StatusBadRequest, "invalid_json", "The body must hold one JSON object and nothing after it.")
		return
	}
	if req.EMISNumber == nil {
		writeProblem(w, problem{Status: http.StatusUnprocessableEntity, Code: string(booking.CodeInvalid), Detail: "emis_number is required",
			Errors: []fieldProblem{{Field: "emis_number", Code: "required", Message: "give the EMIS number shown on the patient's record"}}})
		return
	}
	id := r.PathValue("aid")
	check, err := s.cfg.Booking.LinkPlaceholder(r.Context(), p.ID, id, booking.LinkRequest{EMISNumber: *req.EMISNumber,
		ConfirmMismatch: req.ConfirmMismatch, Reason: req.Reason, Actor: u.Username})
	if err != nil {
		s.linkProblem(w, r, p, err)
		return
	}
	writeJSON(w, http.StatusAccepted, linkJSONAnswer{AppointmentID: check.AppointmentID, Reference: check.Reference, EMISNumber: check.EMISNumber,
		Status: "linking", Detail: linkingMessage(check), Typed: check.Typed, Record: check.Record, Disagree: nonNil(check.Disagree)})
}

func linkingMessage(c booking.RecordCheck) string {
	return fmt.Sprintf("herolink is booking %s for EMIS number %d. It shows as booked once EMIS holds the appointment.", c.Reference, c.EMISNumber)
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// linkProblem answers a refused or failed link.
func (s *server) linkProblem(w http.ResponseWriter, r *http.Request, p store.Practice, err error) {
	var me *booking.MismatchError
	if errors.As(err, &me) {
		c := me.Check
		writeProblem(w, problem{Status: http.StatusConflict, Code: string(booking.CodeDemographicsMismatch),
			Detail:     "The EMIS record's details disagree with what the patient typed. Check the number; if the record is the patient, send confirm_mismatch true with the reason.",
			EMISNumber: c.EMISNumber, Typed: &c.Typed, Record: &c.Record, Disagree: c.Disagree})
		return
	}
	var be *booking.Error
	if errors.As(err, &be) {
		status := http.StatusUnprocessableEntity
		switch be.Code {
		case booking.CodeNotFound:
			status = http.StatusNotFound
		case booking.CodeInvalidState:
			status = http.StatusConflict
		}
		pr := problem{Status: status, Code: string(be.Code), Detail: be.Message}
		for _, f := range be.Fields {
			pr.Errors = append(pr.Errors, fieldProblem(f))
		}
		writeProblem(w, pr)
		return
	}
	// EMIS did not answer, or the connection is not usable: nothing was changed.
	s.log.Warn("placeholder link: EMIS record not read", "practice", p.ID, "path", r.URL.Path, slog.Any("err", err))
	fail(w, http.StatusServiceUnavailable, "emis_unavailable", "herolink could not read the record from EMIS just now; nothing was changed. Try again in a minute.")
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type)
	}
	return err.Error()
}
