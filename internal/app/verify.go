package app

import "time"

// verifyEvery is how long a live booking may go without being read back from EMIS: one full
// sync interval less one verifier run interval (the booking sweep's), so that a booking gone
// from EMIS is found within one full sync interval whatever the diary feed saw.
func verifyEvery(cfg Config) time.Duration {
	full := cfg.SyncFullInterval
	if full <= 0 {
		full = 45 * time.Second
	}
	return max(full-cfg.BookingSweepInterval, cfg.BookingSweepInterval)
}
