package browsertest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Product is herolink and its EMIS sandbox running in-process on loopback ports, seeded as
// `herolink demo` seeds them: Riverside (A81001) followed the setup guide and is connected,
// Oakfield (A81002) is untouched, and Info holds the demo's users, API key and practice group.
type Product struct {
	App        *app.App
	World      *sandbox.World
	AdminURL   string // http://127.0.0.1:PORT (no trailing slash)
	SandboxURL string // http://127.0.0.1:PORT
	Info       app.DemoInfo
}

// StartProduct starts the product for one test and stops it when the test ends. It skips the
// test when there is no browser (fails it under CI=true), like NewPage. The database
// is the engine storetest chooses (HEROLINK_TEST_DATABASE): SQLite by default, PostgreSQL in
// CI's second pass.
func StartProduct(t testing.TB) *Product {
	t.Helper()
	// Only browser tests start it: without a browser, skip (or fail under CI) before paying for it.
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, SecondDemo: true})
	sln := listen(t)
	ssrv := sandbox.HTTPServer(sandbox.NewServer(world, nil))
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		_ = ssrv.Serve(sln)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = ssrv.Shutdown(sctx)
		<-sdone
	})
	sandboxURL := "http://" + sln.Addr().String()

	ln := listen(t)
	adminURL := "http://" + ln.Addr().String()
	cfg := app.Config{DataDir: t.TempDir(), EMISURL: sandboxURL, SandboxURL: sandboxURL,
		DirectoryURL: sandboxURL + "/sandbox/v1/directory", SupplierID: sandbox.DefaultSupplierID,
		// Quick sweeps so a placeholder is written and reconciled within a second or two.
		BookingSweepInterval: 200 * time.Millisecond, SweepInterval: 200 * time.Millisecond}
	if storetest.Engine() == store.Postgres {
		cfg.DatabaseURL = storetest.URL(t)
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("start herolink: %v", err)
	}
	info, err := a.SeedDemo(ctx, adminURL+"/admin/", sandboxURL)
	if err != nil {
		a.Store.Close()
		ln.Close()
		t.Fatalf("seed the demo: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	t.Cleanup(func() {
		stop()
		// A test that ends while herolink is still starting stops it mid-start: not a failure.
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			t.Errorf("herolink stopped with %v", err)
		}
	})
	return &Product{App: a, World: world, AdminURL: adminURL, SandboxURL: sandboxURL, Info: info}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// PracticeURL is the admin page of the practice with the ODS code, plus any path after it
// ("/bookings", "/mapping").
func (pr *Product) PracticeURL(t testing.TB, ods, path string) string {
	t.Helper()
	p, err := pr.App.Store.PracticeByODS(context.Background(), ods)
	if err != nil {
		t.Fatalf("practice %s: %v", ods, err)
	}
	return pr.AdminURL + "/admin/practices/" + strconv.FormatInt(p.ID, 10) + path
}

// SignIn signs in on herolink's sign-in page as a staff user, by clicks, and checks it worked.
func SignIn(p *Page, adminURL, username, password string) {
	p.t.Helper()
	p.Go(strings.TrimSuffix(adminURL, "/") + "/admin/login")
	p.Fill("Username", username)
	p.Fill("Password", password)
	p.Click("Sign in")
	p.MustSee("Sign out")
}

// SignInAsSupport signs in as the demo's support user (every practice, no patients).
func (pr *Product) SignInAsSupport(p *Page) {
	p.t.Helper()
	SignIn(p, pr.AdminURL, pr.Info.StaffUsername, pr.Info.StaffPassword)
}

// SignInAsPractice signs in as Riverside's own staff (its patients, its placeholders).
func (pr *Product) SignInAsPractice(p *Page) {
	p.t.Helper()
	SignIn(p, pr.AdminURL, pr.Info.PracticeUsername, pr.Info.PracticePassword)
}
