package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes: OWASP's minimum configuration (19 MiB, 2 passes, 1
// lane). Stored hashes carry their own parameters, so these can be raised later.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	saltLen      = 16
	keyLen       = 32
)

// Limits on the parameters of a stored hash, so a tampered row cannot make a sign-in attempt
// allocate gigabytes or spin for minutes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 10
	maxThreads = 16
	minSaltLen = 8
	minKeyLen  = 16
	maxKeyLen  = 64
)

// ErrMalformedHash means a stored password hash is not an argon2id PHC string this package
// can verify.
var ErrMalformedHash = errors.New("staff: malformed password hash")

// hashing bounds concurrent argon2id runs: each holds about 19 MiB for tens of milliseconds,
// and a burst of sign-in attempts must not exhaust memory.
var hashing = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func argonKey(pw string, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2.IDKey([]byte(pw), salt, t, m, p, n)
}

// HashPassword hashes a staff password with argon2id and a fresh 16-byte salt, in PHC format:
// $argon2id$v=19$m=19456,t=2,p=1$salt$hash (unpadded standard base64).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staff: read random salt: %w", err)
	}
	key := argonKey(pw, salt, argonTime, argonMemory, argonThreads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches hash, comparing in constant time. A hash that is
// not a well-formed argon2id PHC string is an error, never a match.
func VerifyPassword(hash, pw string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argonKey(pw, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

type phc struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(s string) (phc, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: unsupported version %q", ErrMalformedHash, parts[2])
	}
	var h phc
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return phc{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return phc{}, fmt.Errorf("%w: parameter %q", ErrMalformedHash, kv)
		}
		switch {
		case k == "m" && n <= maxMemory:
			h.memory = uint32(n)
		case k == "t" && n <= maxTime:
			h.time = uint32(n)
		case k == "p" && n <= maxThreads:
			h.threads = uint8(n)
		default:
			return phc{}, fmt.Errorf("%w: parameter %q", ErrMalformedHash, kv)
		}
	}
	if len(seen) != 3 || h.memory < 8*uint32(h.threads) {
		return phc{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < minSaltLen {
		return phc{}, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return phc{}, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	return h, nil
}
