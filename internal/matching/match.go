package matching

import (
	"context"
	"fmt"

	"herolink/internal/emis"
)

// Searcher is the part of an EMIS connection matching needs; *emis.Conn is one.
type Searcher interface {
	GetMatchedPatient(ctx context.Context, filter string) ([]emis.Patient, error)
}

// SearchPageLimit is the most registrations one GetMatchedPatient answer was seen to hold: the
// sandbox stops at 100 without saying so. An answer this long may be cut short and may hide a
// namesake, so Match refuses to link on it.
const SearchPageLimit = 100

// Match runs every filter of SearchFilters and decides on the union of the answers. A failed
// search fails the match, since deciding on part of the candidates could link past a twin the
// failed search would have found; the caller then makes the placeholder. The error never quotes a
// filter, which holds demographics.
func Match(ctx context.Context, s Searcher, d Demographics) (Verdict, error) {
	filters := SearchFilters(d)
	var cands []Candidate
	full := false
	for i, f := range filters {
		patients, err := s.GetMatchedPatient(ctx, f)
		if err != nil {
			return Verdict{}, fmt.Errorf("matching: search %d of %d: %w", i+1, len(filters), err)
		}
		full = full || len(patients) >= SearchPageLimit
		for _, p := range patients {
			cands = append(cands, CandidateFromEMIS(p))
		}
	}
	v := Decide(d, cands)
	if full && v.Outcome == Linked {
		for i := range v.Assessments {
			v.Assessments[i].Matched = false
		}
		v.Outcome, v.EMISNumber, v.Rule = Unmatched, 0, RuleSearchIncomplete
		v.Reason = fmt.Sprintf("A search returned %d or more registrations and may have been cut short, so nothing was linked.", SearchPageLimit)
	}
	return v, nil
}
