package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// snapshot is what --state keeps: the options that shape generated practices, and every
// organisation that changed since it was generated (or was created through the admin API).
// Login sessions are not kept: after a restart partners get -2 and log on again, as with EMIS.
type snapshot struct {
	Version   int    `json:"version"`
	Seed      uint64 `json:"seed"`
	Practices int    `json:"practices"`
	NoDemo    bool   `json:"no_demo"`
	Second    bool   `json:"second_demo"`
	Orgs      []*Org `json:"organisations"`
}

const snapshotVersion = 1

// SaveState writes every changed organisation to path atomically (temporary file, fsync, rename).
func (w *World) SaveState(path string) error {
	snap := snapshot{Version: snapshotVersion, Seed: w.opts.Seed, Practices: w.opts.Practices, NoDemo: w.opts.NoDemo, Second: w.opts.SecondDemo}
	var data []byte
	var err error
	for _, o := range w.Orgs() {
		o.mu.Lock()
		if o.changed {
			snap.Orgs = append(snap.Orgs, o)
		}
		o.mu.Unlock()
	}
	sort.Slice(snap.Orgs, func(i, j int) bool { return snap.Orgs[i].Serial < snap.Orgs[j].Serial })
	// Marshal each organisation under its own lock.
	parts := make([]json.RawMessage, len(snap.Orgs))
	for i, o := range snap.Orgs {
		o.mu.Lock()
		parts[i], err = json.Marshal(o)
		o.mu.Unlock()
		if err != nil {
			return fmt.Errorf("sandbox: encode organisation %d: %w", o.CDB, err)
		}
	}
	data, err = json.Marshal(struct {
		snapshot
		Orgs []json.RawMessage `json:"organisations"`
	}{snap, parts})
	if err != nil {
		return fmt.Errorf("sandbox: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sandbox-state-*")
	if err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	return nil
}

// LoadState restores a state file made by SaveState into a freshly built world with the same
// seed and number of practices. A missing file is not an error: the world starts fresh.
func (w *World) LoadState(path string) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: load state: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("sandbox: load state %s: not a sandbox state file: %w", path, err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("sandbox: load state %s: version %d, this build reads version %d", path, snap.Version, snapshotVersion)
	}
	if snap.Seed != w.opts.Seed || snap.Practices != w.opts.Practices || snap.NoDemo != w.opts.NoDemo || snap.Second != w.opts.SecondDemo {
		return fmt.Errorf("sandbox: load state %s: it was made with --seed %d --practices %d (no demo: %v); start with the same flags or another state file",
			path, snap.Seed, snap.Practices, snap.NoDemo)
	}
	sort.Slice(snap.Orgs, func(i, j int) bool { return snap.Orgs[i].Serial < snap.Orgs[j].Serial })
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range snap.Orgs {
		o.world, o.changed = w, true
		if o.Days == nil {
			o.Days = map[int]*Day{}
		}
		if o.PatientEdits == nil {
			o.PatientEdits = map[int64]*Patient{}
		}
		if o.NextIDs == nil {
			o.NextIDs = map[string]int64{}
		}
		switch {
		case o.Serial > 0 && o.Serial < len(w.serial):
			old := w.serial[o.Serial]
			if old.CDB != o.CDB {
				return fmt.Errorf("sandbox: load state %s: organisation %d does not match this world", path, o.CDB)
			}
			delete(w.byODS, old.ODS)
		case o.Serial == len(w.serial):
			w.serial = append(w.serial, nil)
		default:
			return fmt.Errorf("sandbox: load state %s: organisation %d has serial %d out of order", path, o.CDB, o.Serial)
		}
		w.serial[o.Serial] = o
		w.orgs[o.CDB] = o
		w.byODS[o.ODS] = o
	}
	return nil
}

// RunSaver saves the state to path at most once per interval while it changes, and once more
// when ctx ends. A kill -9 loses at most the last interval of sandbox changes.
func (w *World) RunSaver(ctx context.Context, path string, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	save := func() {
		if !w.dirty.Swap(false) {
			return
		}
		if err := w.SaveState(path); err != nil {
			w.dirty.Store(true)
			log.Error("sandbox state not saved", "path", path, "err", err)
		}
	}
	for {
		select {
		case <-t.C:
			save()
		case <-ctx.Done():
			save()
			return
		}
	}
}
