package api

import (
	"net/http"
	"net/url"
	"slices"
	"time"
)

// query is a request's query string read strictly: only the parameters a route knows, each at
// most once. Problems are collected so one answer names them all.
type query struct {
	values url.Values
	fields []FieldProblem
}

func parseQuery(r *http.Request, allowed ...string) *query {
	q := &query{}
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		q.fields = append(q.fields, FieldProblem{Field: "query", Code: "malformed", Message: "the query string is not correctly encoded"})
		return q
	}
	q.values = v
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(allowed, name):
			q.fields = append(q.fields, FieldProblem{Field: name, Code: "unknown_parameter", Message: "there is no such query parameter"})
		case len(v[name]) == 1 && v[name][0] == "":
			// location_id= is not "any location": a value lost on the partner's side must not
			// widen a search or pick a default, and the document's minLength says so.
			q.fields = append(q.fields, FieldProblem{Field: name, Code: "empty", Message: name + " is given without a value: leave it out or give one"})
		}
	}
	return q
}

// empty says whether name was given without a value (already a problem).
func (q *query) empty(name string) bool {
	vs := q.values[name]
	return len(vs) == 1 && vs[0] == ""
}

// get is the value of one parameter ("" if absent), or the problem of giving it twice.
func (q *query) get(name string) (string, *FieldProblem) {
	vs := q.values[name]
	if len(vs) > 1 {
		return "", &FieldProblem{Field: name, Code: "repeated", Message: name + " must be given once"}
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// value reads one parameter, recording a problem if it is repeated.
func (q *query) value(name string) string {
	v, fp := q.get(name)
	if fp != nil {
		q.fields = append(q.fields, *fp)
	}
	return v
}

// date reads a required yyyy-mm-dd parameter as midnight in London.
func (q *query) date(name string) (time.Time, bool) {
	v := q.value(name)
	if v == "" {
		if _, repeated := q.get(name); repeated == nil && !q.empty(name) {
			q.fields = append(q.fields, FieldProblem{Field: name, Code: "required", Message: name + " is required (yyyy-mm-dd)"})
		}
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(time.DateOnly, v, london)
	if err != nil {
		q.fields = append(q.fields, FieldProblem{Field: name, Code: "invalid_date", Message: name + " must be a date written yyyy-mm-dd"})
		return time.Time{}, false
	}
	return t, true
}

// problem is the answer for the parameters at fault, or nil.
func (q *query) problem() *Problem {
	if len(q.fields) == 0 {
		return nil
	}
	return invalid("The query parameters are not valid: see errors.", q.fields...)
}
