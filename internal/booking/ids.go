package booking

import (
	"crypto/rand"
	"strconv"
	"strings"
)

// Public ids: a prefix saying what the id names, then the numbers herolink keys it by. A slot
// id carries its practice, because EMIS slot numbers are only unique within one practice.

func slotID(practiceID, emisSlotID int64) string {
	return "slt_" + strconv.FormatInt(practiceID, 10) + "_" + strconv.FormatInt(emisSlotID, 10)
}

func parseSlotID(s string) (practiceID, emisSlotID int64, ok bool) {
	rest, found := strings.CutPrefix(s, "slt_")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "_")
	if !found {
		return 0, 0, false
	}
	p, err1 := strconv.ParseInt(a, 10, 64)
	e, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || p <= 0 || e <= 0 {
		return 0, 0, false
	}
	return p, e, true
}

func prefixedID(prefix string, id int64) string {
	if id == 0 {
		return ""
	}
	return prefix + strconv.FormatInt(id, 10)
}

func parsePrefixedID(prefix, s string) (int64, bool) {
	rest, found := strings.CutPrefix(s, prefix)
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

const (
	prefixAppointmentType = "at_"
	prefixLocation        = "loc_"
	prefixPractitioner    = "pr_"
)

// randomID makes an unguessable id: ids are not secrets, but must not let one partner walk
// another's appointments.
func randomID(prefix string, n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

// newReference is the booking's reference written into EMIS's notes: short enough for
// reception to read out, unique by the database's constraint.
func newReference() string {
	return strings.ToUpper(randomID("HL-", 8))
}
