package emis_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// BenchmarkSessionListRead reads a generated practice's 14-day session list through the client,
// as the sync does on every pass.
func BenchmarkSessionListRead(b *testing.B) {
	w := sandbox.New(sandbox.Options{Seed: 1, Practices: 1, NoDemo: true})
	o := w.Orgs()[0]
	srv := httptest.NewServer(sandbox.NewServer(w, nil))
	defer srv.Close()
	caller, _ := emis.NewCaller(emis.Config{BaseURL: srv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 5 * time.Second})
	ctx := context.Background()
	conn, err := caller.Connect(ctx, emis.Credentials{CDB: o.CDB, Username: "Herouser", APIPassword: sandbox.GeneratedAPIPassword(1)})
	if err != nil {
		b.Fatal(err)
	}
	today := w.Today()
	b.ReportAllocs()
	for b.Loop() {
		_, release, err := conn.GetAppointmentSessionsLeased(ctx, today, today.AddDays(13), 0)
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
}
