package api

// CrashAfterOperation makes handlers built from cfg stop an idempotent request right after its
// operation ran, before its answer is kept, whenever crash answers true: what a kill of the
// process at that moment leaves behind.
func CrashAfterOperation(cfg *Config, crash func() bool) { cfg.crashAfterOperation = crash }
