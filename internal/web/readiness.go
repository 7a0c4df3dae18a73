package web

import "herolink/internal/mapping"

// readinessJSON answers GET /admin/practices/{id}/readiness: whether bookings can flow, the
// reasons they cannot (a stable code, what is wrong, the fix in the guide's words), warnings
// that do not stop them, and every item as the readiness panel lists it.
type readinessJSON struct {
	Ready    bool                `json:"ready"`
	Reasons  []mapping.Reason    `json:"reasons"`
	Warnings []mapping.Reason    `json:"warnings"`
	Items    []readinessItemJSON `json:"items"`
	// SyncedBy is the instance holding the practice's sync lease ("" when none does): with
	// several instances, which one to look at when its diary copy lags.
	SyncedBy string `json:"synced_by"`
}

type readinessItemJSON struct {
	Key      string `json:"key"`
	Title    string `json:"title"`
	Done     bool   `json:"done"`
	WhatToDo string `json:"what_to_do"`
	Note     string `json:"note,omitempty"`
}

func toReadinessJSON(r mapping.Readiness) readinessJSON {
	out := readinessJSON{Ready: r.Ready, Reasons: r.Reasons(), Warnings: r.Warnings, Items: []readinessItemJSON{}}
	if out.Warnings == nil {
		out.Warnings = []mapping.Reason{}
	}
	for _, it := range r.Items {
		out.Items = append(out.Items, readinessItemJSON{Key: it.Key, Title: it.Title, Done: it.Done, WhatToDo: it.ToDo, Note: it.Note})
	}
	return out
}
