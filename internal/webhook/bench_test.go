package webhook_test

import (
	"strconv"
	"testing"
	"time"

	"herolink/internal/store/storetest"
	"herolink/internal/webhook"
)

// BenchmarkDeliver1000EventsOf100Appointments measures fan-out and delivery end to end: 1,000
// events (10 per appointment, delivered in order per appointment) to one local receiver, with
// 4 delivery workers. Run with -benchtime=1x (HEROLINK_TEST_DATABASE picks the engine).
func BenchmarkDeliver1000EventsOf100Appointments(b *testing.B) { benchDeliver(b, 100, 10) }

// BenchmarkDeliver1000EventsOf500Appointments is the usual shape: confirmed, then booked or
// placeholder_created.
func BenchmarkDeliver1000EventsOf500Appointments(b *testing.B) { benchDeliver(b, 500, 2) }

func benchDeliver(b *testing.B, appointments, each int) {
	for range b.N {
		bd := setup(b, storetest.Open(b), webhook.Config{})
		rc := newReceiver(b)
		ep := bd.endpoint(b, partnerA, rc.srv.URL)
		rc.trust(ep.Secret)
		for a := range appointments {
			id := "apt_" + strconv.Itoa(a)
			bd.appointment(b, id, partnerA, a)
			for range each {
				bd.event(b, id, "appointment.confirming", "")
			}
		}
		begin := time.Now()
		start(b, bd.queue)
		if n, err := bd.svc.FanOut(bd.ctx); err != nil || n != 1000 {
			b.Fatalf("fan-out %d %v", n, err)
		}
		fanned := time.Since(begin)
		rc.waitAccepted(b, 1000)
		all := time.Since(begin)
		b.ReportMetric(float64(fanned.Milliseconds()), "fanout-ms")
		b.ReportMetric(1000/all.Seconds(), "deliveries/s")
	}
}
