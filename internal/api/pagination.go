package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// list is every list answer: the items, how many there are in this page, and the cursor of
// the next page (absent on the last).
type list[T any] struct {
	Data       []T    `json:"data"`
	Count      int    `json:"count"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func listOf[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Data: items, Count: len(items), NextCursor: next}
}

// Page sizes of /v1/slots.
const (
	defaultLimit = 100
	maxLimit     = 500
	maxCursor    = 512
)

// parsePage reads ?limit= (1 to 500, 100 if absent) and ?cursor= (opaque).
func parsePage(get func(string) (string, *FieldProblem)) (limit int, cursor string, fields []FieldProblem) {
	limit = defaultLimit
	if v, fp := get("limit"); fp != nil {
		fields = append(fields, *fp)
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			fields = append(fields, FieldProblem{Field: "limit", Code: "out_of_range", Message: "limit must be a whole number from 1 to 500"})
		} else {
			limit = n
		}
	}
	cursor, fp := get("cursor")
	if fp != nil {
		fields = append(fields, *fp)
	} else if len(cursor) > maxCursor {
		fields = append(fields, FieldProblem{Field: "cursor", Code: "invalid", Message: "cursor must be one returned as next_cursor"})
	}
	return limit, cursor, fields
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}
