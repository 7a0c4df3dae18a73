package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"herolink/internal/api"
)

// The contract as tools written elsewhere read it: the OpenAPI document alone must be enough to
// build a request to every operation (an example on every parameter and schema, a tag and a
// description on every operation), and the API must keep the document's request rules on every
// operation it lists. These tests walk the document, so an operation added to it is held to the
// same rules without being named here.

type docNode = map[string]any

func openAPIDoc(t *testing.T) docNode {
	t.Helper()
	var d docNode
	if err := json.Unmarshal(api.OpenAPI(), &d); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return d
}

// resolve follows local $refs ("#/components/schemas/Slot") to what they name.
func resolve(doc docNode, v any) docNode {
	n, _ := v.(docNode)
	for range 10 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		var cur any = doc
		for part := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := cur.(docNode)
			cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
		}
		n, _ = cur.(docNode)
	}
	return n
}

// docOperation is one operation of the document with its parameters (the path's and its own,
// resolved).
type docOperation struct {
	method, path string // "POST", "/v1/appointments/{id}/book"
	op           docNode
	params       []docNode
}

func (o docOperation) String() string { return o.method + " " + o.path }

// public says the operation needs no credentials (the document itself).
func (o docOperation) public() bool {
	sec, ok := o.op["security"].([]any)
	return ok && len(sec) == 0
}

func docOperations(doc docNode) []docOperation {
	paths, _ := doc["paths"].(docNode)
	var out []docOperation
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := resolve(doc, paths[path])
		common, _ := item["parameters"].([]any)
		for _, method := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
			op, ok := item[method].(docNode)
			if !ok {
				continue
			}
			o := docOperation{method: strings.ToUpper(method), path: path, op: op}
			own, _ := op["parameters"].([]any)
			byKey := map[string]docNode{}
			var order []string
			for _, p := range append(append([]any{}, common...), own...) {
				rp := resolve(doc, p)
				key := fmt.Sprint(rp["in"], ":", rp["name"])
				if _, seen := byKey[key]; !seen {
					order = append(order, key)
				}
				byKey[key] = rp // the operation's own overrides the path's
			}
			for _, k := range order {
				o.params = append(o.params, byKey[k])
			}
			out = append(out, o)
		}
	}
	return out
}

// ownExample is a schema's own example: example, or the first of JSON Schema's examples.
func ownExample(s docNode) (any, bool) {
	if v, ok := s["example"]; ok {
		return v, true
	}
	if arr, ok := s["examples"].([]any); ok && len(arr) > 0 {
		return arr[0], true
	}
	return nil, false
}

// exampleOf is what a contract tester would send for a parameter, header or media type: its
// own example, the first of its examples, or its schema's example.
func exampleOf(doc docNode, n docNode) (any, bool) {
	if v, ok := n["example"]; ok {
		return v, true
	}
	if exs, ok := n["examples"].(docNode); ok {
		for _, k := range slices.Sorted(maps.Keys(exs)) {
			if v, ok := resolve(doc, exs[k])["value"]; ok {
				return v, true
			}
		}
	}
	return ownExample(resolve(doc, n["schema"]))
}

// checkSchema reports every schema under s (its properties, items and branches) that has
// neither an example of its own nor a value in its parent's example. A $ref is a component,
// checked on its own.
func checkSchema(loc string, v any, inherited any, has bool, miss func(string, ...any)) {
	s, _ := v.(docNode)
	if s == nil {
		return
	}
	if _, ref := s["$ref"]; ref {
		return
	}
	if ex, ok := ownExample(s); ok {
		inherited, has = ex, true
	}
	if !has {
		miss("%s has no example", loc)
		return
	}
	if props, ok := s["properties"].(docNode); ok {
		exm, _ := inherited.(docNode)
		for _, name := range slices.Sorted(maps.Keys(props)) {
			pv, in := exm[name]
			checkSchema(loc+"."+name, props[name], pv, in, miss)
		}
	}
	if items, ok := s["items"]; ok {
		arr, _ := inherited.([]any)
		if len(arr) > 0 {
			checkSchema(loc+"[]", items, arr[0], true, miss)
		} else {
			checkSchema(loc+"[]", items, nil, false, miss)
		}
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		branches, _ := s[k].([]any)
		for i, br := range branches {
			checkSchema(fmt.Sprintf("%s.%s[%d]", loc, k, i), br, inherited, has, miss)
		}
	}
}

func TestTheDocumentAloneIsEnoughToCallEveryOperation(t *testing.T) {
	t.Parallel()
	doc := openAPIDoc(t)
	var missing []string
	miss := func(format string, a ...any) { missing = append(missing, fmt.Sprintf(format, a...)) }
	text := func(n docNode, k string) string { s, _ := n[k].(string); return strings.TrimSpace(s) }

	info, _ := doc["info"].(docNode)
	contact, _ := info["contact"].(docNode)
	if text(contact, "name") == "" || (text(contact, "email") == "" && text(contact, "url") == "") {
		miss("info.contact needs a name and an email or url")
	}
	license, _ := info["license"].(docNode)
	if text(license, "name") == "" || (text(license, "identifier") == "" && text(license, "url") == "") {
		miss("info.license needs a name and an SPDX identifier or url")
	}
	declared := map[string]bool{}
	tags, _ := doc["tags"].([]any)
	for _, tv := range tags {
		tag, _ := tv.(docNode)
		if text(tag, "description") == "" {
			miss("tag %q has no description", text(tag, "name"))
		}
		declared[text(tag, "name")] = true
	}

	for _, o := range docOperations(doc) {
		if text(o.op, "operationId") == "" {
			miss("%s has no operationId", o)
		}
		if text(o.op, "summary") == "" || text(o.op, "description") == "" {
			miss("%s needs a summary and a description", o)
		}
		opTags, _ := o.op["tags"].([]any)
		if len(opTags) == 0 {
			miss("%s has no tag", o)
		}
		for _, tg := range opTags {
			if name, _ := tg.(string); !declared[name] {
				miss("%s: tag %q is not in the document's tags (with a description)", o, name)
			}
		}
		for _, p := range o.params {
			loc := fmt.Sprintf("%s: %s parameter %q", o, p["in"], p["name"])
			if text(p, "description") == "" {
				miss("%s has no description", loc)
			}
			ex, ok := exampleOf(doc, p)
			if !ok {
				miss("%s has no example", loc)
			}
			checkSchema(loc+" schema", p["schema"], ex, ok, miss)
		}
		if rb := resolve(doc, o.op["requestBody"]); rb != nil {
			content, _ := rb["content"].(docNode)
			for _, mt := range slices.Sorted(maps.Keys(content)) {
				m := resolve(doc, content[mt])
				ex, ok := exampleOf(doc, m)
				if !ok {
					miss("%s: request body %s has no example", o, mt)
				}
				checkSchema(fmt.Sprintf("%s: request body %s", o, mt), m["schema"], ex, ok, miss)
			}
		}
		responses, _ := o.op["responses"].(docNode)
		for _, code := range slices.Sorted(maps.Keys(responses)) {
			r := resolve(doc, responses[code])
			if text(r, "description") == "" {
				miss("%s: answer %s has no description", o, code)
			}
			content, _ := r["content"].(docNode)
			for _, mt := range slices.Sorted(maps.Keys(content)) {
				m := resolve(doc, content[mt])
				ex, ok := exampleOf(doc, m)
				if !ok {
					miss("%s: answer %s %s has no example", o, code, mt)
				}
				checkSchema(fmt.Sprintf("%s: answer %s %s", o, code, mt), m["schema"], ex, ok, miss)
			}
			headers, _ := r["headers"].(docNode)
			for _, name := range slices.Sorted(maps.Keys(headers)) {
				h := resolve(doc, headers[name])
				ex, ok := exampleOf(doc, h)
				if !ok {
					miss("%s: answer %s header %s has no example", o, code, name)
				}
				checkSchema(fmt.Sprintf("%s: answer %s header %s", o, code, name), h["schema"], ex, ok, miss)
			}
		}
	}
	components, _ := doc["components"].(docNode)
	schemas, _ := components["schemas"].(docNode)
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		checkSchema("schema "+name, schemas[name], nil, false, miss)
	}
	params, _ := components["parameters"].(docNode)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if _, ok := exampleOf(doc, resolve(doc, params[name])); !ok {
			miss("parameter %s has no example", name)
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	if len(missing) > 0 {
		t.Errorf("a contract tester cannot run from the document alone:\n%s", strings.Join(missing, "\n"))
	}
	// Every example must also be valid for its schema: kin-openapi checks that when it loads
	// the document.
	if _, err := spec(); err != nil {
		t.Fatalf("kin-openapi refuses the document: %v", err)
	}
}

// request builds, from the document's examples alone, a request to o: path parameters filled,
// query parameters given (the required ones, or all when all is true), and the JSON body's
// example.
func (o docOperation) request(t *testing.T, doc docNode, all bool) req {
	t.Helper()
	path := o.path
	q := url.Values{}
	for _, p := range o.params {
		ex, ok := exampleOf(doc, p)
		if !ok {
			t.Fatalf("%s: parameter %v has no example", o, p["name"])
		}
		name, _ := p["name"].(string)
		switch p["in"] {
		case "path":
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(fmt.Sprint(ex)))
		case "query":
			if required, _ := p["required"].(bool); required || all {
				q.Set(name, fmt.Sprint(ex))
			}
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := req{method: o.method, path: path}
	if m, ok := o.jsonBody(doc); ok {
		ex, ok := exampleOf(doc, m)
		if !ok {
			t.Fatalf("%s: the request body has no example", o)
		}
		body, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		r.body = string(body)
	}
	return r
}

// jsonBody is the operation's application/json request body, if it takes one.
func (o docOperation) jsonBody(doc docNode) (docNode, bool) {
	rb := resolve(doc, o.op["requestBody"])
	content, _ := rb["content"].(docNode)
	m, ok := content["application/json"]
	return resolve(doc, m), ok
}

// withQuery adds a raw query parameter to a path.
func withQuery(path, raw string) string {
	if strings.Contains(path, "?") {
		return path + "&" + raw
	}
	return path + "?" + raw
}

func (f *fakeBooking) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// otherMediaTypes are what a contract tester, or a partner's client, sends instead of
// application/json.
var otherMediaTypes = []string{
	"application/merge-patch+json", "application/vnd.api+json", "application/problem+json",
	"application/json-patch+json", "application/jsonx", "text/json", "text/plain",
	"application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
	"application/json; charset=iso-8859-1", "application/json; version=2", "not a media type", "",
}

func TestEveryOperationTakingJSONRefusesAnyOtherMediaTypeAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	n := 0
	for _, o := range docOperations(doc) {
		rb := resolve(doc, o.op["requestBody"])
		if rb == nil || o.public() {
			continue
		}
		content, _ := rb["content"].(docNode)
		if types := slices.Sorted(maps.Keys(content)); !slices.Equal(types, []string{"application/json"}) {
			t.Errorf("%s takes %v: the API accepts application/json alone", o, types)
			continue
		}
		n++
		good := o.request(t, doc, false)
		key := ""
		for i, ct := range otherMediaTypes {
			for _, body := range []string{good.body, ""} {
				if body == "" && ct == "" {
					continue // no body and no type: the operation's own rule (cancel takes none)
				}
				r := good
				r.body = body
				r.header = map[string]string{"Content-Type": ct}
				if o.method == http.MethodPost {
					key = fmt.Sprintf("media %s %d %d", o, i, len(body))
					r.header["Idempotency-Key"] = key
				}
				before := b.booking.total()
				res := b.send(t, r)
				if res.status != http.StatusUnsupportedMediaType {
					t.Fatalf("%s sent as %q: %d, want 415:\n%s", o, ct, res.status, res.body)
				}
				mustProblem(t, res, http.StatusUnsupportedMediaType, "unsupported_media_type")
				if b.booking.total() != before {
					t.Fatalf("%s sent as %q was refused but reached the booking core", o, ct)
				}
			}
		}
		// The same request as application/json is taken, and the refused one's Idempotency-Key
		// was not spent on the refusal.
		r := good
		if key != "" {
			r.header = map[string]string{"Idempotency-Key": key}
		}
		before := b.booking.total()
		res := b.send(t, r)
		// Taken: it reached the booking core, or (the webhook operations, which do not use
		// it) its handler answered: a success, or its own 404 for the example's id.
		taken := b.booking.total() != before || res.status/100 == 2 ||
			res.status == http.StatusNotFound && strings.HasPrefix(o.path, "/v1/webhooks/")
		if res.status == http.StatusUnsupportedMediaType || res.header.Get("Idempotent-Replayed") != "" || !taken {
			t.Fatalf("%s as application/json: %d %v, booking calls %d -> %d:\n%s", o, res.status, res.header, before, b.booking.total(), res.body)
		}
	}
	if n == 0 {
		t.Fatal("the document lists no operation taking a body")
	}
}

// emptyIsInvalid says whether a parameter's schema refuses "": a string needs minLength, a
// date or a number cannot be empty.
func emptyIsInvalid(s docNode) bool {
	switch s["type"] {
	case "integer", "number", "boolean":
		return true
	case "string":
		if f, _ := s["format"].(string); f == "date" || f == "date-time" {
			return true
		}
		if min, _ := s["minLength"].(float64); min >= 1 {
			return true
		}
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, any("")) {
			return true
		}
	}
	return false
}

func TestAnEmptyQueryValueIsRefusedNamingTheParameterOnEveryOperation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	n := 0
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		for _, p := range o.params {
			if p["in"] != "query" {
				continue
			}
			n++
			name, _ := p["name"].(string)
			if !emptyIsInvalid(resolve(doc, p["schema"])) {
				t.Errorf("%s: the schema of %s allows an empty value (give it minLength 1)", o, name)
			}
			for _, raw := range []string{name + "=", name} { // ?location_id= and ?location_id
				r := o.request(t, doc, false)
				u, _ := url.Parse(r.path)
				qs := u.Query()
				qs.Del(name)
				r.path = u.Path
				if enc := qs.Encode(); enc != "" {
					r.path += "?" + enc
				}
				r.path = withQuery(r.path, raw)
				before := b.booking.total()
				m := mustProblem(t, b.send(t, r), http.StatusUnprocessableEntity, "validation_failed")
				if !slices.Contains(fieldsOf(m), name) || !strings.Contains(string(mustJSON(t, m)), `"code":"empty"`) {
					t.Fatalf("%s ?%s: the problem does not name %s as empty: %v", o, raw, name, m)
				}
				if b.booking.total() != before {
					t.Fatalf("%s ?%s was refused but reached the booking core", o, raw)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("the document lists no query parameter")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEveryOperationRefusesAQueryParameterItDoesNotList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		r := o.request(t, doc, false)
		r.path = withQuery(r.path, "dry_run=1")
		before := b.booking.total()
		m := mustProblem(t, b.send(t, r), http.StatusUnprocessableEntity, "validation_failed")
		if !slices.Contains(fieldsOf(m), "dry_run") {
			t.Fatalf("%s: the problem does not name dry_run: %v", o, m)
		}
		if b.booking.total() != before {
			t.Fatalf("%s?dry_run=1 was refused but reached the booking core", o)
		}
	}
}

// A request made from the document's examples alone passes the API's own checks: whatever the
// answer (the example ids need not exist here), it is not a refusal of the request's shape.
func TestRequestsBuiltFromTheDocumentsExamplesAreWellFormed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		for _, all := range []bool{false, true} {
			r := o.request(t, doc, all)
			res := b.send(t, r)
			switch res.status {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
				t.Errorf("%s built from the examples (%s %s) is refused as malformed: %d\n%s", o, r.path, r.body, res.status, res.body)
			}
		}
	}
}

// GET /v1 and the paths net/http's mux would redirect (doubled slashes, dot segments) answer the
// problem+json 404 of any unknown /v1 path: a redirect's body is an HTML page, and a client
// following it would carry its credentials somewhere it did not name.
func TestV1ItselfAndPathsTheMuxWouldRedirectAnswerAProblemNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/v1", "/v1?x=1", "/v1//slots", "/v1/./locations", "/v1/locations/.", "/v1/slots/..",
		"/v1/../admin/", "/v1/appointments/apt_1/./book", "/v1/appointments//book", "/v1/locations/"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodHead} {
			before := b.booking.total()
			res := b.send(t, req{method: method, path: path})
			if res.status != http.StatusNotFound || res.header.Get("Location") != "" {
				t.Fatalf("%s %s: %d %v, want a 404 problem and no redirect", method, path, res.status, res.header)
			}
			if method != http.MethodHead {
				mustProblem(t, res, http.StatusNotFound, "not_found")
			}
			if b.booking.total() != before {
				t.Fatalf("%s %s reached the booking core", method, path)
			}
		}
	}
}

// Past its rate, a key is told when to retry on every operation, and nothing is done.
func TestEveryOperationTellsAKeyOverItsRateWhenToRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{rate: 0.001, burst: 1})
	doc := openAPIDoc(t)
	if res := b.get(t, "/v1/locations"); res.status != http.StatusOK { // the key's one request
		t.Fatalf("%d %s", res.status, res.body)
	}
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		before := b.booking.total()
		res := b.send(t, o.request(t, doc, false))
		mustProblem(t, res, http.StatusTooManyRequests, "rate_limited")
		if res.header.Get("Retry-After") == "" || b.booking.total() != before {
			t.Fatalf("%s past the rate: Retry-After %q, booking calls %d -> %d", o, res.header.Get("Retry-After"), before, b.booking.total())
		}
	}
}

// The document itself is served as it describes itself, to anyone.
func TestTheDocumentIsServedWithoutCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.send(t, req{method: http.MethodGet, path: "/openapi.json", header: map[string]string{"x-api-key": "", "x-practice-group-id": ""}})
	if res.status != http.StatusOK || res.json(t)["openapi"] != "3.1.0" {
		t.Fatalf("%d %s", res.status, res.body[:min(len(res.body), 200)])
	}
}

// An Idempotency-Key header sent empty, or twice, is refused rather than taken as absent:
// the request would otherwise run without the once-only promise its sender asked for.
func TestAnIdempotencyKeySentEmptyOrTwiceIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, keys := range [][]string{{""}, {"a", "b"}, {"a", "a"}} {
		body := `{"slot_id":"slt_1_1"}`
		r := httptest.NewRequest(http.MethodPost, "/v1/appointments", strings.NewReader(body))
		r.Header.Set("x-api-key", b.keyA)
		r.Header.Set("x-practice-group-id", b.groupA)
		r.Header.Set("Content-Type", "application/json")
		r.Header["Idempotency-Key"] = keys
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, r)
		res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		checkAgainstSpec(t, req{method: http.MethodPost, path: "/v1/appointments"}, body, res)
		mustProblem(t, res, http.StatusBadRequest, "invalid_idempotency_key")
	}
	if n := b.booking.count("Reserve"); n != 0 {
		t.Fatalf("reserved %d times with a key sent empty or twice", n)
	}
}

// null is not "left out": no request field is nullable, and a partner sending null may mean
// "clear it", which herolink would not do.
func TestAFieldSentAsNullIsRefusedNamingItNotTakenAsLeftOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		r     req
		field string
	}{
		{req{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Dora","date_of_birth":"1950-01-01","email":null}`}, "email"},
		{req{method: "PATCH", path: "/v1/appointments/apt_1/cancel", body: `{"reason":null}`}, "reason"},
		{req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1","comment":null}`}, "comment"},
		{req{method: "POST", path: "/v1/appointments/apt_1/book", body: `{"patient":{"family_name":"Demo","given_name":null,"date_of_birth":"1950-01-01"}}`}, "patient.given_name"},
	} {
		before := b.booking.total()
		m := mustProblem(t, b.send(t, tc.r), http.StatusBadRequest, "invalid_json")
		if !slices.Equal(fieldsOf(m), []string{tc.field}) || b.booking.total() != before {
			t.Fatalf("%s %s: %v (booking calls %d -> %d)", tc.r.method, tc.r.path, m, before, b.booking.total())
		}
	}
}

// PostgreSQL cannot keep U+0000 in text: a field holding it is refused naming the field, on
// every engine, before anything is stored (on PostgreSQL a webhook's description with it was a
// 500).
func TestAFieldHoldingTheNULCharacterIsRefusedNamingIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		r     req
		field string
	}{
		{req{method: "POST", path: "/v1/webhooks", body: `{"url":"https://partner.example/hook","event_types":["appointment.booked"],"description":"a\u0000b"}`}, "description"},
		{req{method: "POST", path: "/v1/patients/register", body: `{"family_name":"De\u0000mo","given_name":"Dora","date_of_birth":"1950-01-01"}`}, "family_name"},
		{req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1","comment":"\u0000"}`}, "comment"},
		{req{method: "POST", path: "/v1/appointments/apt_1/book", body: `{"patient":{"family_name":"Demo","given_name":"\u0000","date_of_birth":"1950-01-01"}}`}, "patient.given_name"},
	} {
		before := b.booking.total()
		m := mustProblem(t, b.send(t, tc.r), http.StatusBadRequest, "invalid_json")
		if !slices.Equal(fieldsOf(m), []string{tc.field}) || b.booking.total() != before {
			t.Fatalf("%s %s: %v (booking calls %d -> %d)", tc.r.method, tc.r.path, m, before, b.booking.total())
		}
	}
}
