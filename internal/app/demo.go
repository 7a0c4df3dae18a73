package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"herolink/internal/api/apikey"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/staff"
	"herolink/internal/store"
)

// DemoInfo is what `herolink demo` prints and writes to DATA_DIR/demo.json.
type DemoInfo struct {
	AdminURL      string `json:"admin_url"`
	SandboxURL    string `json:"sandbox_url"`
	StaffUsername string `json:"staff_username"` // herolink support: every practice, no patients
	StaffPassword string `json:"staff_password"`
	// A member of Riverside's own staff, who sees its patients (placeholders to reconcile).
	PracticeUsername string `json:"practice_username"`
	PracticePassword string `json:"practice_password"`
	APIKey           string `json:"api_key"`
	PracticeGroupID  string `json:"practice_group_id"`
}

const (
	demoStaffUser    = "support"
	demoPracticeUser = "riverside"
)

// DemoInfoPath is where the demo's credentials are kept between runs.
func DemoInfoPath(dataDir string) string { return filepath.Join(dataDir, "demo.json") }

// SeedDemo makes the demo usable with no set-up: a support staff user, the connected demo
// practice (Riverside, whose EMIS side followed the guide) and an API key for its practice
// group. Oakfield Surgery is left for the newcomer to connect. Running it again reuses what
// exists, so restarting the demo keeps its data and credentials.
func (a *App) SeedDemo(ctx context.Context, adminURL, sandboxURL string) (DemoInfo, error) {
	path := DemoInfoPath(a.cfg.DataDir)
	var info DemoInfo
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &info)
	}
	info.AdminURL, info.SandboxURL = adminURL, sandboxURL

	if err := a.ensureDemoUser(ctx, store.StaffUser{Username: demoStaffUser, DisplayName: "Demo support engineer",
		Role: store.RoleSupport}, &info.StaffPassword); err != nil {
		return info, err
	}
	info.StaffUsername = demoStaffUser

	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	connected := err == nil
	if connected {
		_, err = a.Store.ActiveConnection(ctx, p.ID)
		connected = err == nil
	}
	if !connected {
		res, err := a.Practices.Connect(ctx, practice.Actor{Name: "herolink demo"}, practice.ConnectRequest{
			Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
		if err != nil {
			return info, fmt.Errorf("demo: connect %s: %w", sandbox.DemoODS, err)
		}
		if !res.Saved {
			return info, fmt.Errorf("demo: connecting %s failed: %s", sandbox.DemoODS, summarise(res))
		}
		if p, err = a.Store.PracticeByODS(ctx, sandbox.DemoODS); err != nil {
			return info, err
		}
	}
	// Support rightly cannot see patients: a member of Riverside's staff reconciles its
	// placeholders.
	if err := a.ensureDemoUser(ctx, store.StaffUser{Username: demoPracticeUser, DisplayName: "Demo receptionist, Riverside",
		Role: store.RolePractice, PracticeID: p.ID}, &info.PracticePassword); err != nil {
		return info, err
	}
	info.PracticeUsername = demoPracticeUser
	// Map practitioners, sites and slot types the way staff would, so the partner API offers
	// slots at once; choices made on the mapping pages since the last run are kept.
	if err := a.PrepareForBooking(ctx, p.ID); err != nil {
		return info, fmt.Errorf("demo: prepare %s for booking: %w", sandbox.DemoODS, err)
	}
	// A key revoked or rotated on the admin page since the last run is replaced.
	if _, kerr := a.Keys.Authenticate(ctx, info.APIKey); kerr != nil || info.PracticeGroupID != p.PracticeGroupID {
		key, err := a.Keys.Create(ctx, apikey.Actor{Name: "herolink demo", PracticeID: p.ID}, p.PracticeGroupID,
			apikey.NewKey{Name: "Demo partner", Partner: "herolink demo", Scopes: apikey.AllScopes})
		if err != nil {
			return info, fmt.Errorf("demo: API key: %w", err)
		}
		info.APIKey = key.Secret
	}
	info.PracticeGroupID = p.PracticeGroupID
	data, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return info, fmt.Errorf("demo: write %s: %w", path, err)
	}
	return info, nil
}

// ensureDemoUser creates a demo staff user, or gives it a new password when demo.json has
// none for it; an existing user with a known password is kept.
func (a *App) ensureDemoUser(ctx context.Context, want store.StaffUser, password *string) error {
	user, err := a.Store.StaffUserByUsername(ctx, want.Username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && *password != "" {
		return nil
	}
	pw := randomToken(12)
	hash, herr := staff.HashPassword(pw)
	if herr != nil {
		return herr
	}
	if errors.Is(err, store.ErrNotFound) {
		want.PasswordHash = hash
		_, err = a.Store.CreateStaffUser(ctx, want)
	} else {
		err = a.Store.UpdateStaffPassword(ctx, user.ID, hash)
	}
	if err != nil {
		return fmt.Errorf("demo: staff user %s: %w", want.Username, err)
	}
	*password = pw
	return nil
}

func summarise(res practice.ConnectResult) string {
	switch {
	case len(res.FieldErrors) > 0:
		return res.FieldErrors[0].Message
	case res.Test != nil:
		f := res.Test.Checks.FirstFailure()
		return f.Title + ": " + f.Message
	}
	return "not connected"
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
