package sandbox

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"

	"herolink/internal/emis"
)

// adminView is what the admin API answers for a value: the diary's sessions and slots are the
// Partner API's XML types, whose Go field names would otherwise come out as PascalCase JSON
// keys with an XMLName field; the admin API is snake_case everywhere.
func adminView(v any) any {
	switch v.(type) {
	case SessionView, []SessionView, emis.Slot:
	default:
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return v
	}
	return snakeKeys(tree)
}

// snakeKeys renames every object key to snake_case and drops XMLName.
func snakeKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if k == "XMLName" {
				continue
			}
			out[snakeCase(k)] = snakeKeys(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = snakeKeys(x)
		}
		return t
	}
	return v
}

// snakeCase turns "SessionDBID" into "session_dbid" and "TypeID" into "type_id"; a key already
// in snake_case is unchanged.
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			nextLower := i > 0 && i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
