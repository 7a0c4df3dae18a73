// Package vault seals stored secrets (EMIS API passwords, later webhook signing keys) with
// AES-256-GCM under a key id, so keys can be rotated without losing what they sealed.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// EnvVar names the environment variable that can hold the keys instead of a key file:
// "id:base64key[,id:base64key...]", the first being current, or a single bare base64 key.
const EnvVar = "HEROLINK_SECRET_KEY"

// Keyring holds the keys. The current key seals; any key opens what it sealed.
type Keyring struct {
	mu      sync.Mutex
	current string
	keys    map[string][]byte
	path    string    // the key file, or "" when the keys came from the environment
	modTime time.Time // of the key file when last read: a running server follows a rotation
}

// ErrUnknownKey means a secret was sealed under a key this keyring does not have.
var ErrUnknownKey = errors.New("vault: secret sealed under a key that is not loaded")

type keyFile struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"` // id -> base64 of 32 bytes
}

// Load takes the keys from the environment variable if it is set, else from the key file at
// path, creating that file with a fresh key (mode 0600) if it does not exist.
func Load(path string) (*Keyring, error) {
	if v := os.Getenv(EnvVar); v != "" {
		return FromEnv(v)
	}
	return LoadFile(path)
}

// FromEnv parses the environment form of the keys.
func FromEnv(v string) (*Keyring, error) {
	k := &Keyring{keys: map[string][]byte{}}
	for i, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		id, b64, found := strings.Cut(part, ":")
		if !found {
			id, b64 = "env", part
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("vault: %s: key %d is not base64 of 32 bytes", EnvVar, i+1)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("vault: %s: key id %q appears twice", EnvVar, id)
		}
		k.keys[id] = key
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// LoadFile reads the key file, creating it with one fresh key if it does not exist.
func LoadFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := &Keyring{keys: map[string][]byte{}, path: path}
		id, err := k.addKey()
		if err != nil {
			return nil, err
		}
		k.current = id
		if err := k.save(); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read key file: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("vault: key file %s is readable by others (mode %v); chmod 600 it", path, info.Mode().Perm())
	}
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("vault: key file %s is not a herolink key file: %w", path, err)
	}
	k := &Keyring{current: f.Current, keys: map[string][]byte{}, path: path}
	if info, err := os.Stat(path); err == nil {
		k.modTime = info.ModTime()
	}
	for id, b64 := range f.Keys {
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("vault: key file %s: key %q is not base64 of 32 bytes", path, id)
		}
		k.keys[id] = key
	}
	if _, ok := k.keys[k.current]; !ok {
		return nil, fmt.Errorf("vault: key file %s: current key %q is missing", path, k.current)
	}
	return k, nil
}

func (k *Keyring) addKey() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("vault: generate key: %w", err)
	}
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	id := "k" + hex.EncodeToString(idb)
	k.keys[id] = key
	return id, nil
}

// save writes the key file atomically with mode 0600.
func (k *Keyring) save() error {
	f := keyFile{Current: k.current, Keys: map[string]string{}}
	for id, key := range k.keys {
		f.Keys[id] = base64.StdEncoding.EncodeToString(key)
	}
	data, _ := json.MarshalIndent(f, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(k.path), ".keys-*")
	if err != nil {
		return fmt.Errorf("vault: write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), k.path); err != nil {
		return err
	}
	if info, err := os.Stat(k.path); err == nil {
		k.modTime = info.ModTime()
	}
	return nil
}

// refresh re-reads the key file if another process (herolink vault rotate) changed it, so a
// running server seals under the new key and opens what was re-sealed. Callers hold k.mu.
func (k *Keyring) refreshLocked() error {
	if k.path == "" {
		return nil
	}
	info, err := os.Stat(k.path)
	if err != nil || info.ModTime().Equal(k.modTime) {
		return nil
	}
	fresh, err := LoadFile(k.path)
	if err != nil {
		return err
	}
	k.current, k.keys, k.modTime = fresh.current, fresh.keys, fresh.modTime
	return nil
}

// Current is the id of the key that seals.
func (k *Keyring) Current() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	_ = k.refreshLocked()
	return k.current
}

// KeyIDs lists the loaded key ids.
func (k *Keyring) KeyIDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	ids := make([]string, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Seal encrypts plain under the current key. purpose binds the ciphertext to where it is
// stored (as GCM additional data), so a sealed value copied to another column will not open.
func (k *Keyring) Seal(plain []byte, purpose string) (keyID string, sealed []byte, err error) {
	k.mu.Lock()
	if err := k.refreshLocked(); err != nil {
		k.mu.Unlock()
		return "", nil, err
	}
	current, key := k.current, k.keys[k.current]
	k.mu.Unlock()
	aead, err := newAEAD(key)
	if err != nil {
		return "", nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return current, aead.Seal(nonce, nonce, plain, []byte(purpose)), nil
}

// Open decrypts a value sealed under keyID for purpose.
func (k *Keyring) Open(keyID string, sealed []byte, purpose string) ([]byte, error) {
	k.mu.Lock()
	key, ok := k.keys[keyID]
	if !ok {
		if err := k.refreshLocked(); err != nil {
			k.mu.Unlock()
			return nil, err
		}
		key, ok = k.keys[keyID]
	}
	k.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, keyID)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("vault: sealed value is too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(purpose))
	if err != nil {
		return nil, errors.New("vault: sealed value does not open (wrong key, purpose or tampered)")
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return cipher.NewGCM(block)
}

// Rotation re-seals every secret under a new current key. With a key file: BeginRotation adds
// a fresh key as current and saves the file (old keys kept, so a crash loses nothing), the
// caller re-seals every secret in one transaction, then FinishRotation drops the old keys.
// With keys from the environment, put the new key first in HEROLINK_SECRET_KEY (keeping the old
// ones after it), run the rotation (it re-seals under the current key), then drop the old ones.
func (k *Keyring) BeginRotation() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path == "" {
		return k.current, nil
	}
	id, err := k.addKey()
	if err != nil {
		return "", err
	}
	k.current = id
	return id, k.save()
}

// FinishRotation forgets every key but the current one (key file only).
func (k *Keyring) FinishRotation() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.path == "" {
		return nil
	}
	for id := range k.keys {
		if id != k.current {
			delete(k.keys, id)
		}
	}
	return k.save()
}
