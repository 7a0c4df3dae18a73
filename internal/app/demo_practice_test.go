package app_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/staff"
	"herolink/internal/store"
)

// The support user rightly cannot see patients, so the demo also makes a member of Riverside's
// own staff, who can reconcile its placeholders; both are printed and kept in demo.json.
func TestDemoAlsoCreatesAPracticeStaffUserForRiverside(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, SecondDemo: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID, HealthInterval: time.Minute}
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if info.PracticeUsername == "" || info.PracticePassword == "" || info.PracticeUsername == info.StaffUsername {
		t.Fatalf("demo info = %+v", info)
	}
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Store.StaffUserByUsername(ctx, info.PracticeUsername)
	if err != nil || u.Role != store.RolePractice || u.PracticeID != p.ID {
		t.Fatalf("practice user = %+v, %v; want Riverside's staff", u, err)
	}
	if ok, err := staff.VerifyPassword(u.PasswordHash, info.PracticePassword); !ok || err != nil {
		t.Fatalf("the printed password does not sign in: %v", err)
	}
	var onDisk map[string]any
	data, _ := os.ReadFile(app.DemoInfoPath(dir))
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk["practice_username"] != info.PracticeUsername || onDisk["practice_password"] != info.PracticePassword {
		t.Fatalf("demo.json = %s", data)
	}
	// A restart keeps the same users and passwords.
	info2, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil || info2 != info {
		t.Fatalf("second seed = %+v, %v; want %+v", info2, err, info)
	}
}
