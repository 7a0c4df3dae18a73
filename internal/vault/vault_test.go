package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyFileIsCreatedPrivateOnFirstRunAndReloaded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.keys")
	k, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	id, sealed, err := k.Seal([]byte("HeroApi2026x"), "p")
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := again.Open(id, sealed, "p")
	if err != nil || string(plain) != "HeroApi2026x" {
		t.Fatalf("reloaded keyring opens %q, %v", plain, err)
	}
	if bytes.Contains(sealed, []byte("HeroApi2026x")) {
		t.Fatal("the sealed value contains the plaintext")
	}
}

func TestKeyFileReadableByOthersIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.keys")
	if _, err := LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
}

func TestSealedValueOpensOnlyForItsPurposeAndKey(t *testing.T) {
	t.Parallel()
	k, err := FromEnv("a:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	id, sealed, _ := k.Seal([]byte("secret"), "emis password")
	if _, err := k.Open(id, sealed, "webhook key"); err == nil {
		t.Fatal("opened under another purpose")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(id, sealed, "emis password"); err == nil {
		t.Fatal("opened a tampered value")
	}
	if _, err := k.Open("zzz", sealed, "emis password"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestEnvironmentKeysAreValidated(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	for _, v := range []string{"short", "a:" + base64.StdEncoding.EncodeToString([]byte("16 bytes only!!!")), "a:" + good + ",a:" + good} {
		if _, err := FromEnv(v); err == nil {
			t.Errorf("FromEnv(%q) accepted it", v)
		}
	}
	k, err := FromEnv("new:" + good + ",old:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	if err != nil || k.Current() != "new" || len(k.KeyIDs()) != 2 {
		t.Fatalf("FromEnv = %v, %v", k, err)
	}
}

func TestRotationKeepsOldKeysUntilFinished(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.keys")
	k, _ := LoadFile(path)
	oldID, sealed, _ := k.Seal([]byte("pw"), "p")
	newID, err := k.BeginRotation()
	if err != nil || newID == oldID || k.Current() != newID {
		t.Fatalf("BeginRotation = %q, %v", newID, err)
	}
	// A crash now: the file on disk opens both old and new secrets.
	mid, _ := LoadFile(path)
	if _, err := mid.Open(oldID, sealed, "p"); err != nil {
		t.Fatalf("mid-rotation keyring cannot open old secrets: %v", err)
	}
	if err := k.FinishRotation(); err != nil {
		t.Fatal(err)
	}
	after, _ := LoadFile(path)
	if ids := after.KeyIDs(); len(ids) != 1 || ids[0] != newID {
		t.Fatalf("after rotation keys = %v", ids)
	}
}

func TestARunningServerFollowsARotationByAnotherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.keys")
	server, _ := LoadFile(path)
	oldID, sealed, _ := server.Seal([]byte("pw"), "p")

	// `herolink vault rotate` in another process: a new key, secrets re-sealed, old key dropped.
	rotator, _ := LoadFile(path)
	newID, err := rotator.BeginRotation()
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := rotator.Open(oldID, sealed, "p")
	_, resealed, _ := rotator.Seal(plain, "p")
	if err := rotator.FinishRotation(); err != nil {
		t.Fatal(err)
	}
	// Make sure the file's modification time moved even on coarse clocks.
	later := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(path, later, later)

	if got, err := server.Open(newID, resealed, "p"); err != nil || string(got) != "pw" {
		t.Fatalf("the server cannot open a re-sealed secret: %q, %v", got, err)
	}
	if id, _, _ := server.Seal([]byte("x"), "p"); id != newID {
		t.Fatalf("the server still seals under %s, which the key file no longer has", id)
	}
}
