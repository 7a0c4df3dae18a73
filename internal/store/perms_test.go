//go:build unix

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"herolink/internal/store"
)

func modes(t *testing.T, path string) map[string]os.FileMode {
	t.Helper()
	out := map[string]os.FileMode{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = info.Mode().Perm()
	}
	return out
}

func openAndWrite(t *testing.T, path string) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Not parallel: the umask is the process's.
func TestTheDatabaseAndItsWALAndSHMAreCreatedReadableByHerolinkAlone(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask: the modes must not depend on it
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "herolink.db")
	openAndWrite(t, path)
	for name, m := range modes(t, path) {
		if m != 0o600 {
			t.Errorf("%s was created with mode %v, want 0600", name, m)
		}
	}
}

func TestADatabaseLeftReadableByOthersIsMadePrivateOnStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herolink.db")
	openAndWrite(t, path)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	openAndWrite(t, path)
	for name, m := range modes(t, path) {
		if m != 0o600 {
			t.Errorf("%s left at mode %v after start, want 0600", name, m)
		}
	}
}
