package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"herolink/internal/emis"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// readBody reads a request body: at most maxBody bytes (413), application/json only (415).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Problem) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, problem(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
			fmt.Sprintf("The request body must be at most %d bytes.", maxBody))
	}
	if err != nil {
		return nil, badJSON("The request body could not be read.")
	}
	ct := r.Header.Get("Content-Type")
	if len(bytes.TrimSpace(data)) == 0 && ct == "" {
		return nil, nil
	}
	if p := jsonContentType(ct); p != nil {
		return nil, p
	}
	return data, nil
}

// jsonContentType refuses (415) a Content-Type other than application/json, optionally with
// charset=utf-8: the document declares application/json alone, and a body sent as another type
// (application/merge-patch+json, text/plain) may mean something else to its sender, so it is
// not acted on. A declared type is checked even on an empty body.
func jsonContentType(ct string) *Problem {
	refuse := func(detail string) *Problem {
		return problem(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, detail)
	}
	if ct == "" {
		return refuse("Send the request body as JSON with Content-Type: application/json.")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return refuse("Send the request body with Content-Type: application/json; no other media type is accepted.")
	}
	for name, v := range params {
		if name != "charset" || !strings.EqualFold(v, "utf-8") {
			return refuse("Content-Type: application/json takes no parameter but charset=utf-8.")
		}
	}
	return nil
}

// decodeBody reads one JSON object into v, a pointer to a struct whose fields are pointers (so
// absent and given are told apart). Field names must match exactly, each given once; anything
// else is refused with 400 invalid_json naming the field. An empty body is an empty object
// when emptyOK, else refused.
func decodeBody(data []byte, v any, emptyOK bool) *Problem {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		if emptyOK {
			return nil
		}
		return badJSON("The request body must be a JSON object.")
	}
	if !utf8.Valid(data) {
		return badJSON("The request body must be UTF-8.")
	}
	if data[0] != '{' {
		return badJSON("The request body must be a JSON object.")
	}
	if p := boundJSON(data); p != nil {
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if p := checkShape(dec, reflect.TypeOf(v).Elem(), ""); p != nil {
		return p
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badJSON("The request body must hold one JSON object and nothing after it.")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badJSON(fmt.Sprintf("%s must be %s.", typeErr.Field, kind(typeErr.Type)),
				FieldProblem{Field: typeErr.Field, Code: "invalid_type", Message: "must be " + kind(typeErr.Type)})
		}
		return badJSON("The request body is not valid JSON.")
	}
	return nil
}

// maxDepth and maxValues bound what the shape check and encoding/json are given: no body of
// this API nests deeper than 3 or holds more than a few dozen values, while 64 KB of "[" would
// cost the decoders a deep stack and tens of megabytes.
const (
	maxDepth  = 32
	maxValues = 2000
)

// boundJSON refuses, in one pass over the bytes and without allocating, a body nested deeper
// than maxDepth or holding more than maxValues values. Brackets inside strings do not count.
func boundJSON(data []byte) *Problem {
	depth, values := 0, 0
	inString, escaped := false, false
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			values++
			if depth > maxDepth {
				return badJSON(fmt.Sprintf("The request body is nested more than %d levels deep (at byte %d); no request needs that.", maxDepth, i))
			}
		case '}', ']':
			depth--
		case ',':
			values++
		}
		if values > maxValues {
			return badJSON(fmt.Sprintf("The request body holds more than %d values; no request needs that.", maxValues))
		}
	}
	return nil
}

// kind says in words what a Go type is as JSON.
func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// checkShape walks the next JSON value against t: every object's keys must be the exact json
// names of t's fields, each once. Types are left for json.Unmarshal to check.
func checkShape(dec *json.Decoder, t reflect.Type, path string) *Problem {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem(err)
	}
	if tok == nil && path != "" {
		// No field of any request is nullable: null is not "left out", which says the same
		// without doubt about what was meant.
		return badJSON(fmt.Sprintf("%s must be %s, not null; leave it out instead.", path, kind(t)),
			FieldProblem{Field: path, Code: "invalid_type", Message: "must be " + kind(t) + ", not null"})
	}
	if str, ok := tok.(string); ok && strings.ContainsRune(str, 0) {
		// No text herolink keeps may hold U+0000: PostgreSQL cannot store it, and no name,
		// note or address needs it.
		field := path
		if field == "" {
			field = "body"
		}
		return badJSON(fmt.Sprintf("%s contains the NUL character (\\u0000), which no field may hold.", field),
			FieldProblem{Field: field, Code: "invalid_character", Message: "must not contain the NUL character (\\u0000)"})
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '[':
		elem := reflect.TypeFor[any]()
		if t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for dec.More() {
			if p := checkShape(dec, elem, path+"[]"); p != nil {
				return p
			}
		}
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return syntaxProblem(err)
			}
			name, _ := tok.(string)
			field := name
			if path != "" {
				field = path + "." + name
			}
			ft, known := jsonField(t, name)
			if !known {
				return badJSON(fmt.Sprintf("There is no field %q here.", field),
					FieldProblem{Field: field, Code: "unknown_field", Message: "there is no such field"})
			}
			if seen[name] {
				return badJSON(fmt.Sprintf("The field %q is given twice.", field),
					FieldProblem{Field: field, Code: "duplicate_field", Message: "given more than once"})
			}
			seen[name] = true
			if p := checkShape(dec, ft, field); p != nil {
				return p
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxProblem(err)
	}
	return nil
}

// jsonField finds the type of the field of struct t named name in JSON (exactly). Values that
// are not structs accept any key (their type is checked by json.Unmarshal).
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.TypeFor[any](), t.Kind() == reflect.Map || t.Kind() == reflect.Interface
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name && tag != "" && tag != "-" {
			return f.Type, true
		}
	}
	return nil, false
}

func syntaxProblem(err error) *Problem {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badJSON(fmt.Sprintf("The request body is not valid JSON (at byte %d).", se.Offset))
	}
	return badJSON("The request body is not valid JSON.")
}

// Times in bodies and answers are RFC 3339 in Europe/London; dates are yyyy-mm-dd.
var london = emis.London

func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(london).Format(time.RFC3339)
	return &s
}

func mustTime(t time.Time) string {
	if p := formatTime(t); p != nil {
		return *p
	}
	return ""
}

// str returns a string pointer that is nil for "".
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref is the value of an optional string field, "" if absent.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
