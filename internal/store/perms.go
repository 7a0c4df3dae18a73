package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The database holds patients' details: its file, and SQLite's -wal and -shm beside it (which
// hold recent pages of it), are readable by herolink's user alone, like the vault's key file.

// createPrivate creates the database file with mode 0600 if it does not exist yet, whatever the
// umask, so SQLite never creates it with its default 0644. SQLite gives the -wal and -shm files
// the mode of the database file.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("store: make %s private: %w", path, err)
	}
	return f.Close()
}

// makePrivate checks the database, -wal and -shm files once open: one readable or writable by
// anyone but its owner (a database created by an older herolink) is made 0600, and if that is
// not possible herolink refuses to start rather than keep patients' details readable.
func makePrivate(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: check %s: %w", p, err)
		}
		if info.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("store: %s is readable by others (mode %v) and could not be made 0600 (%v); chmod 600 it", p, info.Mode().Perm(), err)
		}
	}
	return nil
}
