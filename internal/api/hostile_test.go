package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// What a contract tester (schemathesis-style negative testing) sends: for every operation of
// the document, requests built from its examples with one part made hostile: a path id, a query
// value, a body field or the whole body. Every answer must be one the document declares (a
// success only for a request the document accepts: apitest.Check holds both) and none a
// server error.
func TestHostileRequestsBuiltFromTheDocumentGetOnlyDeclaredAnswersAndNoServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	doc := openAPIDoc(t)
	sent := 0
	send := func(o docOperation, what string, r req) {
		t.Helper()
		b.clock.Add(time.Second) // the key's rate is not what this test is about
		res := b.send(t, r)
		sent++
		if res.status >= 500 {
			t.Fatalf("%s with %s (%s %s): %d\n%s", o, what, r.path, r.body, res.status, res.body)
		}
	}
	for _, o := range docOperations(doc) {
		if o.public() {
			continue
		}
		base := o.request(t, doc, true)
		for _, p := range o.params {
			name, _ := p["name"].(string)
			switch p["in"] {
			case "path":
				for _, v := range hostilePathValues {
					r := base
					r.path = strings.Replace(o.request(t, doc, true).path, url.PathEscape(fmt.Sprint(mustExample(t, doc, p))), v, 1)
					send(o, "path "+name+"="+v, r)
				}
			case "query":
				for _, v := range hostileQueryValues {
					r := base
					r.path = replaceQuery(t, base.path, name, v)
					send(o, "query "+name+"="+v, r)
				}
			}
		}
		m, ok := o.jsonBody(doc)
		if !ok {
			continue
		}
		for _, body := range hostileBodies {
			r := base
			r.body = body
			send(o, "body "+body, r)
		}
		example, _ := exampleOf(doc, m)
		for _, mut := range mutations(doc, resolve(doc, m["schema"]), example, "") {
			r := base
			r.body = mut.body
			send(o, mut.what, r)
		}
	}
	t.Logf("%d hostile requests, every answer declared, none a server error", sent)
	if sent < 300 {
		t.Fatalf("only %d hostile requests built from the document", sent)
	}
}

var hostilePathValues = []string{"", strings.Repeat("a", 101), "%00", "..%2F..%2Fadmin", "%2F", "%C3%BC", "%F0%9F%92%A9",
	"a%20b", "null", "-1", "0", "%7Bid%7D", "%FF", "apt_1%0D%0AX-Injected:%201"}

var hostileQueryValues = []string{"", "%zz", "%00", "%FF", "abc", "-1", "0", "501", "1e3", "0x10", "%201", "2026-13-45",
	"2026-02-30", "26-06-01", "1900-01-01", "9999-12-31", strings.Repeat("x", 5000), "%F0%9F%92%A9", "a&a=b", "null"}

var hostileBodies = []string{"", "{", "}", "[]", "null", "0", `"x"`, "true", "{}", `{"":1}`, `{"unknown_field":1}`,
	"{\"a\":\"\xff\"}", `{"a":1}{"b":2}`, strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"__proto__":{}}`}

// replaceQuery gives the query parameter name the raw value v (percent-encoding included).
func replaceQuery(t *testing.T, path, name, v string) string {
	t.Helper()
	p, rawQuery, _ := strings.Cut(path, "?")
	var parts []string
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k != name && kv != "" {
			parts = append(parts, kv)
		}
	}
	parts = append(parts, name+"="+v)
	return p + "?" + strings.Join(parts, "&")
}

func mustExample(t *testing.T, doc, n docNode) any {
	t.Helper()
	v, ok := exampleOf(doc, n)
	if !ok {
		t.Fatalf("%v has no example", n["name"])
	}
	return v
}

type mutation struct{ what, body string }

// wrongValues are what a field may be sent as instead of what its schema says.
func wrongValues(s docNode) []any {
	out := []any{nil, 0, -1, 1.5, true, []any{}, map[string]any{}, "", " ", "\u0000", "é", strings.Repeat("x", 70)}
	if max, ok := s["maxLength"].(float64); ok {
		out = append(out, strings.Repeat("x", int(max)+1))
	}
	return out
}

// mutations changes the example one field at a time (each property of the schema, its oneOf
// branches' and nested objects' too): each wrong value in turn, and left out.
func mutations(doc, s docNode, example any, prefix string) []mutation {
	var out []mutation
	// Each way of sending the body (BookRequest: a patient_id, or the patient's details) is
	// made hostile from its own example.
	for _, k := range []string{"oneOf", "anyOf"} {
		branches, _ := s[k].([]any)
		for _, br := range branches {
			rb := resolve(doc, br)
			if bex, ok := ownExample(rb); ok {
				out = append(out, mutations(doc, rb, bex, prefix)...)
			}
		}
	}
	ex, _ := example.(map[string]any)
	if ex == nil {
		return out
	}
	props := map[string]any{}
	if ps, ok := s["properties"].(docNode); ok {
		maps.Copy(props, ps)
	}
	encode := func(m map[string]any) string { data, _ := json.Marshal(m); return string(data) }
	for _, name := range slices.Sorted(maps.Keys(props)) {
		ps := resolve(doc, props[name])
		for _, v := range wrongValues(ps) {
			m := maps.Clone(ex)
			m[name] = v
			out = append(out, mutation{what: fmt.Sprintf("%s%s=%#v", prefix, name, v), body: encode(m)})
		}
		without := maps.Clone(ex)
		delete(without, name)
		out = append(out, mutation{what: "without " + prefix + name, body: encode(without)})
		// One level down: the patient's details inside a booking.
		if _, ok := ps["properties"].(docNode); ok && prefix == "" {
			inner, ok := ex[name]
			if !ok {
				inner, _ = ownExample(ps)
			}
			for _, mut := range mutations(doc, ps, inner, name+".") {
				var v any
				_ = json.Unmarshal([]byte(mut.body), &v)
				m := maps.Clone(ex)
				m[name] = v
				out = append(out, mutation{what: mut.what, body: encode(m)})
			}
		}
	}
	return out
}
