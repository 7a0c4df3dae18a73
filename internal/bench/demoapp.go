package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"herolink/internal/api/apikey"
	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
)

// demoApp is herolink serving the partner API in this process on the demo practice, against
// an in-process EMIS sandbox: what `bench booking` and `bench holds` measure.
type demoApp struct {
	app    *app.App
	world  *sandbox.World
	client *apiClient   // the demo practice's partner
	others []*apiClient // one partner per extra practice, each with its own practice group
	closes []func()
}

// demoAppOptions say how big a diary and which herolink to build.
type demoAppOptions struct {
	DatabaseURL string // "": SQLite in a temporary data directory; postgres://: a fresh database on that server
	DBPrefix    string // name prefix of the fresh PostgreSQL database
	DiaryWeeks  int    // weeks of diary the sandbox releases and herolink syncs
	// ExtraPractices are generated practices connected and mapped beside the demo practice,
	// for benchmarks that need more free slots than one diary holds.
	ExtraPractices int
	Conns          int // the partner client's connections
	Configure      func(*app.Config)
	Progress       func(format string, args ...any)
}

// startDemoApp prepares the demo practice (connect, map, first sync of the whole diary) and
// serves herolink. close stops everything in reverse order.
func startDemoApp(ctx context.Context, o demoAppOptions) (d *demoApp, err error) {
	d = &demoApp{}
	defer func() {
		if err != nil {
			d.close()
			d = nil
		}
	}()
	dir, err := os.MkdirTemp("", "herolink-bench-"+o.DBPrefix+"-")
	if err != nil {
		return d, err
	}
	d.closes = append(d.closes, func() { os.RemoveAll(dir) })
	dbURL, dropDB, err := prepareBenchDatabase(ctx, o.DatabaseURL, o.DBPrefix)
	if err != nil {
		return d, err
	}
	d.closes = append(d.closes, dropDB)

	d.world = sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, DiaryWeeks: o.DiaryWeeks, Practices: o.ExtraPractices})
	emisURL, stopEMIS, err := serveSandbox(d.world)
	if err != nil {
		return d, err
	}
	d.closes = append(d.closes, stopEMIS)

	cfg := app.Config{DataDir: dir, DatabaseURL: dbURL, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		SyncHorizonDays: o.DiaryWeeks * 7, APIRateLimit: 1e9, APIBurst: 1 << 30, Log: slog.New(slog.DiscardHandler)}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	if d.app, err = app.New(ctx, cfg); err != nil {
		return d, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return d, err
	}
	base := "http://" + ln.Addr().String()
	if o.Progress != nil {
		o.Progress("preparing the demo practice (connect, map, first sync of %d weeks)", o.DiaryWeeks)
	}
	info, err := d.app.SeedDemo(ctx, base+"/admin/", emisURL)
	if err != nil {
		ln.Close()
		return d, err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.app.Run(runCtx, ln) }()
	d.closes = append(d.closes, func() { stop(); <-done })
	d.client = newAPIClient(base, info.APIKey, info.PracticeGroupID, o.Conns)
	for i := 1; i <= o.ExtraPractices; i++ {
		c, err := d.connectGenerated(ctx, base, i, o.Conns)
		if err != nil {
			return d, err
		}
		d.others = append(d.others, c)
	}
	return d, nil
}

// connectGenerated connects generated practice i through the connection form's service,
// maps it as the demo is mapped, and gives its practice group a partner key.
func (d *demoApp) connectGenerated(ctx context.Context, base string, i, conns int) (*apiClient, error) {
	ods := sandbox.GeneratedODS(i)
	res, err := d.app.Practices.Connect(ctx, practice.Actor{Name: "herolink bench"}, practice.ConnectRequest{
		Form: practice.Form{ODS: ods, Username: "Herouser", Password: sandbox.GeneratedAPIPassword(i)}})
	if err != nil {
		return nil, fmt.Errorf("bench: connect %s: %w", ods, err)
	}
	if !res.Saved {
		return nil, fmt.Errorf("bench: connecting %s was refused", ods)
	}
	p, err := d.app.Store.PracticeByODS(ctx, ods)
	if err != nil {
		return nil, err
	}
	if err := d.app.PrepareForBooking(ctx, p.ID); err != nil {
		return nil, fmt.Errorf("bench: map %s: %w", ods, err)
	}
	key, err := d.app.Keys.Create(ctx, apikey.Actor{Name: "herolink bench", PracticeID: p.ID}, p.PracticeGroupID,
		apikey.NewKey{Name: "bench", Partner: "herolink bench", Scopes: []string{apikey.ScopeBooking}})
	if err != nil {
		return nil, err
	}
	return newAPIClient(base, key.Secret, p.PracticeGroupID, conns), nil
}

// slotOf is a free slot and the partner that can hold it.
type slotOf struct {
	client *apiClient
	id     string
}

// freeSlotsEverywhere is n free slots taken in turn from every practice's diary.
func (d *demoApp) freeSlotsEverywhere(ctx context.Context, n, weeks int) ([]slotOf, error) {
	clients := append([]*apiClient{d.client}, d.others...)
	lists := make([][]string, len(clients))
	total := 0
	for i, c := range clients {
		ids, err := c.freeSlots(ctx, n, weeks*7-1)
		if err != nil {
			return nil, err
		}
		lists[i], total = ids, total+len(ids)
	}
	if total < n {
		return nil, fmt.Errorf("bench: %d weeks of %d practices' diaries have %d free slots; %d are needed", weeks, len(clients), total, n)
	}
	out := make([]slotOf, 0, n)
	for k := 0; len(out) < n; k++ {
		for i, ids := range lists {
			if k < len(ids) && len(out) < n {
				out = append(out, slotOf{clients[i], ids[k]})
			}
		}
	}
	return out, nil
}

// freeSlots is n free slot ids from tomorrow on, or an error saying how many the diary has.
func (d *demoApp) freeSlots(ctx context.Context, n, weeks int) ([]string, error) {
	free, err := d.client.freeSlots(ctx, n, weeks*7-1)
	if err != nil {
		return nil, err
	}
	if len(free) < n {
		return nil, fmt.Errorf("bench: %d weeks of the demo diary have %d free slots; %d are needed", weeks, len(free), n)
	}
	return free, nil
}

func (d *demoApp) close() {
	for i := len(d.closes) - 1; i >= 0; i-- {
		d.closes[i]()
	}
}
