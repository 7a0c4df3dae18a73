package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as Standard Webhooks writes them.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret: Standard Webhooks asks for 24 to 64 bytes.
const secretBytes = 32

// Secret is a signing key. It never prints itself.
type Secret []byte

func (Secret) String() string   { return "whsec_[redacted]" }
func (Secret) GoString() string { return "whsec_[redacted]" }

// NewSecret makes a fresh random secret.
func NewSecret() Secret {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return b
}

// Encode is the secret as a partner is shown it once: whsec_ + base64.
func (s Secret) Encode() string { return SecretPrefix + base64.StdEncoding.EncodeToString(s) }

// ErrBadSecret is a secret not in the whsec_ + base64 form.
var ErrBadSecret = errors.New("webhook: a secret is whsec_ followed by base64")

// ParseSecret reads a whsec_ secret (the prefix is optional, as in the Standard Webhooks
// libraries).
func ParseSecret(s string) (Secret, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || len(b) == 0 {
		return nil, ErrBadSecret
	}
	return b, nil
}

// Headers are the three Standard Webhooks headers of one attempt.
type Headers struct {
	ID        string // webhook-id: the message's id, the same on every attempt
	Timestamp string // webhook-timestamp: Unix seconds of this attempt
	Signature string // webhook-signature: one "v1,<base64>" per secret, space-separated
}

// Sign signs body for message id at time at with each secret (the current one first; during a
// rotation's overlap also the previous one): HMAC-SHA256 over "{id}.{timestamp}.{body}".
func Sign(id string, at time.Time, body []byte, secrets ...Secret) Headers {
	ts := strconv.FormatInt(at.Unix(), 10)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		mac := hmac.New(sha256.New, s)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return Headers{ID: id, Timestamp: ts, Signature: strings.Join(sigs, " ")}
}
