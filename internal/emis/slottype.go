package emis

import (
	"sort"
	"strings"
)

// UnregisteredSlotTypeName is the slot type the guide's Step 3 creates.
const UnregisteredSlotTypeName = "Hero unregistered patient"

// normaliseName folds case, spacing and punctuation so "HERO  Unregistered-patient" matches.
func normaliseName(s string) string {
	var b strings.Builder
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(f)
	}
	return b.String()
}

// FindUnregisteredSlotType finds the guide's slot type among EMIS's, tolerant of case, spacing
// and punctuation; near names are returned as suggestions.
func FindUnregisteredSlotType(types []SlotType) (found *SlotType, near []string) {
	want := normaliseName(UnregisteredSlotTypeName)
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	for i := range types {
		n := normaliseName(types[i].Description)
		if n == want {
			return &types[i], nil
		}
		d := levenshtein(n, want)
		if d <= 5 || strings.Contains(n, "unregistered") || strings.Contains(n, "hero") {
			cands = append(cands, cand{types[i].Description, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	for _, c := range cands {
		near = append(near, c.name)
	}
	return nil, near
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// IsUnregisteredSlotTypeName says whether name is the guide's slot type name, ignoring case,
// spacing and punctuation.
func IsUnregisteredSlotTypeName(name string) bool {
	return normaliseName(name) == normaliseName(UnregisteredSlotTypeName)
}
