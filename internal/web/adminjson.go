package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"herolink/internal/mapping"
	"herolink/internal/staff"
	"herolink/internal/store"
)

// The admin JSON endpoints' plumbing: sessions and practices checked with JSON answers,
// strict bodies, and refusals as application/problem+json.

type jsonList[T any] struct {
	Data  []T `json:"data"`
	Count int `json:"count"`
}

func list[T any](xs []T) jsonList[T] {
	if xs == nil {
		xs = []T{}
	}
	return jsonList[T]{Data: xs, Count: len(xs)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonFail answers an admin JSON endpoint's refusal in the partner API's problem+json shape:
// a stable code from the status, the message as detail, and the field at fault, if one is.
func jsonFail(w http.ResponseWriter, status int, msg, field string) {
	code := statusCode(status)
	p := problem{Status: status, Code: code, Detail: msg}
	if field != "" {
		p.Errors = []fieldProblem{{Field: field, Code: code, Message: msg}}
	}
	writeProblem(w, p)
}

// statusCode is the problem code of an admin JSON answer's status.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_json"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusBadGateway:
		return "emis_unavailable"
	}
	return "internal_error"
}

// wantsJSON tells the JSON endpoints' callers from browsers' form posts, for the actions both use.
func wantsJSON(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data"
}

// practiceJSON requires a staff session allowed to see the practice in the path, answering in
// JSON when not: 401 without a session, 403 for another practice's user, 404.
func (s *server) practiceJSON(h practiceHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.currentUser(r)
		if errors.Is(err, staff.ErrNoSession) {
			jsonFail(w, http.StatusUnauthorized, "Sign in to herolink first.", "")
			return
		}
		if err != nil {
			s.log.Error("look up session", "path", r.URL.Path, "err", err)
			jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			jsonFail(w, http.StatusNotFound, "There is no practice at this address.", "")
			return
		}
		if u.Role != store.RoleSupport && u.PracticeID != id {
			jsonFail(w, http.StatusForbidden, "Your herolink account is for one practice only, and this is not it.", "")
			return
		}
		p, err := s.cfg.Store.PracticeByID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			jsonFail(w, http.StatusNotFound, "There is no practice at this address.", "")
			return
		}
		if err != nil {
			s.log.Error("load practice", "path", r.URL.Path, "err", err)
			jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		h(w, r, u, p)
	})
}

const serverTrouble = "Something went wrong on our side. Try again in a few minutes; if it keeps happening, contact herolink support."

// mappingFail answers a refused or failed change in JSON.
func (s *server) mappingFail(w http.ResponseWriter, r *http.Request, err error) {
	if status, me := refusal(err); me != nil {
		jsonFail(w, status, me.Message, me.Field)
		return
	}
	s.log.Error("mapping", "path", r.URL.Path, "err", err)
	jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
}

// refusal is the HTTP status of a change the mapping service refused (nil: not a refusal).
func refusal(err error) (int, *mapping.Error) {
	var me *mapping.Error
	if !errors.As(err, &me) {
		return 0, nil
	}
	switch {
	case errors.Is(err, mapping.ErrInvalid):
		return http.StatusUnprocessableEntity, me
	case errors.Is(err, mapping.ErrConflict):
		return http.StatusConflict, me
	case errors.Is(err, mapping.ErrNotFound):
		return http.StatusNotFound, me
	}
	return http.StatusBadGateway, me
}

// decodeJSON reads one JSON object strictly (unknown fields refused) into v.
func decodeJSON(r *http.Request, v any) *mapping.Error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body is too large or could not be read."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &mapping.Error{Kind: mapping.ErrInvalid, Field: typeErr.Field, Message: fmt.Sprintf("%s must be %s.", typeErr.Field, jsonKind(typeErr))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &mapping.Error{Kind: mapping.ErrInvalid, Field: field, Message: fmt.Sprintf("There is no field %q here.", field)}
	case errors.Is(err, io.EOF):
		return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body must be a JSON object."}
	}
	return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body is not a valid JSON object."}
}

// jsonKind says what a field's value must be, in words.
func jsonKind(e *json.UnmarshalTypeError) string {
	switch kind := e.Type.Kind(); {
	case strings.HasSuffix(e.Field, "_id"):
		return "an id from the lists herolink gives (a positive whole number), or null"
	case kind >= reflect.Int && kind <= reflect.Int64:
		return "a whole number"
	case kind == reflect.String:
		return "a string"
	}
	return "of another type"
}

// optionalID is an id a PATCH may set (a number), clear (null) or leave out.
type optionalID struct {
	set bool
	id  int64 // 0: null
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.id = 0
		return nil
	}
	if err := json.Unmarshal(b, &o.id); err != nil {
		return err
	}
	if o.id <= 0 {
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: reflect.TypeFor[int64]()}
	}
	return nil
}

func mapJSON[A, B any](xs []A, f func(A) B) []B {
	out := make([]B, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// pathID reads a positive id from the path; 0 if it is not one.
func pathID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// adminJSONMethods are the admin JSON endpoints' paths and the methods each answers (the
// practitioners' and locations' come from recordRoutes).
var adminJSONMethods = map[string]string{
	"/admin/practices/{id}/slot-types":                        "GET",
	"/admin/practices/{id}/slot-types/{typeId}/feature":       "PUT",
	"/admin/practices/{id}/appointment-types":                 "GET",
	"/admin/practices/{id}/appointment-types/{atid}":          "GET, PATCH",
	"/admin/practices/{id}/readiness":                         "GET",
	"/admin/practices/{id}/placeholders":                      "GET",
	"/admin/practices/{id}/placeholders/{aid}/link":           "POST",
	"/admin/practices/{id}/placeholders/{aid}/booked-in-emis": "POST",
	"/admin/practices/{id}/placeholders/{aid}/cancel":         "POST",
	"/admin/practices/{id}/placeholders/threshold":            "PUT",
}

// jsonMethodsOnly answers any other method on the admin JSON endpoints with a 405 problem and
// an Allow header, as the partner API does, rather than the mux's plain-text answer. A pattern
// without a method is less specific than the endpoints' own, so it only sees the others.
func jsonMethodsOnly(mux *http.ServeMux, paths map[string]string) {
	allowed := maps.Clone(paths)
	for _, rt := range recordRoutes {
		base := "/admin/practices/{id}/" + rt.plural
		allowed[base] = "GET, POST"
		allowed[base+"/{"+rt.idParam+"}"] = "PATCH, DELETE"
	}
	for path, allow := range allowed {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Detail: r.Method + " is not answered here; use " + allow + "."})
		})
	}
}
