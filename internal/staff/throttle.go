package staff

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Throttle limits password guessing at the sign-in form: an account is locked for LockFor
// after MaxFailures failed sign-ins within Window (whatever the address), and a client address
// is refused for LockFor after PerAddress failures within Window (whatever the account). While
// either applies, even the right password is refused, so guessing gains nothing. With Shared
// set (herolink's database), failures are counted there: every instance on the database sees
// the same locks, and a restart forgets nothing. Without it they live in memory (tests).
type Throttle struct {
	// Shared counts failures in the database; nil: in this process's memory.
	Shared FailureStore

	MaxFailures int              // per account; 10 if zero
	PerAddress  int              // per client address; 30 if zero
	Window      time.Duration    // failures older than this are forgotten; 15 minutes if zero
	LockFor     time.Duration    // how long a lock lasts; 15 minutes if zero
	Now         func() time.Time // time.Now if nil
	// MaxTracked bounds the accounts and addresses remembered (each); 10,000 if zero.
	MaxTracked int

	mu       sync.Mutex
	accounts map[string]*failures
	addrs    map[string]*failures
}

// FailureStore is where failures are counted when several instances share them
// (*store.Store).
type FailureStore interface {
	SignInLockedUntil(ctx context.Context, kind, key string) (time.Time, error)
	RecordSignInFailure(ctx context.Context, kind, key string, now time.Time, limit int, window, lock time.Duration) (time.Time, bool, error)
	ClearSignInFailures(ctx context.Context, kind, key string) error
}

// failures is what is remembered of one account or address.
type failures struct {
	count       int
	first       time.Time // of the failures counted
	lockedUntil time.Time
}

// ThrottledError refuses a sign-in without looking at the password.
type ThrottledError struct {
	Account bool          // the account is locked (else the client address is refused)
	Until   time.Time     // when sign-in may be tried again
	Wait    time.Duration // how long that is from now
}

func (e *ThrottledError) Error() string {
	if e.Account {
		return fmt.Sprintf("staff: account locked after repeated failed sign-ins until %s", e.Until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("staff: too many failed sign-ins from this address; refused until %s", e.Until.UTC().Format(time.RFC3339))
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Throttle) limits() (perAccount, perAddress, tracked int, window, lock time.Duration) {
	perAccount, perAddress, tracked = t.MaxFailures, t.PerAddress, t.MaxTracked
	window, lock = t.Window, t.LockFor
	if perAccount <= 0 {
		perAccount = 10
	}
	if perAddress <= 0 {
		perAddress = 30
	}
	if tracked <= 0 {
		tracked = 10000
	}
	if window <= 0 {
		window = 15 * time.Minute
	}
	if lock <= 0 {
		lock = 15 * time.Minute
	}
	return
}

// accountKey names an account whatever the case or spacing typed; unknown usernames are
// tracked the same way, so a lock says nothing about whether an account exists.
func accountKey(username string) string {
	k := strings.ToLower(strings.TrimSpace(username))
	if len(k) > 128 {
		k = k[:128]
	}
	return k
}

// Check refuses (*ThrottledError) a sign-in for a locked account or a refused address. A
// database that cannot be read refuses too: the lock must not fail open.
func (t *Throttle) Check(ctx context.Context, username, addr string) error {
	if t.Shared != nil {
		now := t.now()
		until, err := t.Shared.SignInLockedUntil(ctx, "account", accountKey(username))
		if err != nil {
			return err
		}
		if now.Before(until) {
			return &ThrottledError{Account: true, Until: until, Wait: until.Sub(now)}
		}
		if until, err = t.Shared.SignInLockedUntil(ctx, "address", addrKey(addr)); err != nil {
			return err
		}
		if now.Before(until) {
			return &ThrottledError{Until: until, Wait: until.Sub(now)}
		}
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if f := t.accounts[accountKey(username)]; f != nil && now.Before(f.lockedUntil) {
		return &ThrottledError{Account: true, Until: f.lockedUntil, Wait: f.lockedUntil.Sub(now)}
	}
	if f := t.addrs[addr]; f != nil && now.Before(f.lockedUntil) {
		return &ThrottledError{Until: f.lockedUntil, Wait: f.lockedUntil.Sub(now)}
	}
	return nil
}

// Failed records a failed sign-in and says (*ThrottledError) when it locked the account or
// the address.
func (t *Throttle) Failed(ctx context.Context, username, addr string) error {
	perAccount, perAddress, tracked, window, lock := t.limits()
	if t.Shared != nil {
		now := t.now()
		until, locked, err := t.Shared.RecordSignInFailure(ctx, "account", accountKey(username), now, perAccount, window, lock)
		if err != nil {
			return err
		}
		var terr error
		if locked {
			terr = &ThrottledError{Account: true, Until: until, Wait: until.Sub(now)}
		}
		until, locked, err = t.Shared.RecordSignInFailure(ctx, "address", addrKey(addr), now, perAddress, window, lock)
		if err != nil {
			return err
		}
		if locked && terr == nil {
			terr = &ThrottledError{Until: until, Wait: until.Sub(now)}
		}
		return terr
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.accounts == nil {
		t.accounts, t.addrs = map[string]*failures{}, map[string]*failures{}
	}
	var err error
	if until, locked := record(t.accounts, accountKey(username), now, perAccount, tracked, window, lock); locked {
		err = &ThrottledError{Account: true, Until: until, Wait: until.Sub(now)}
	}
	if until, locked := record(t.addrs, addr, now, perAddress, tracked, window, lock); locked && err == nil {
		err = &ThrottledError{Until: until, Wait: until.Sub(now)}
	}
	return err
}

// Succeeded forgets an account's failures: only consecutive failures count towards its lock.
func (t *Throttle) Succeeded(ctx context.Context, username string) error {
	if t.Shared != nil {
		return t.Shared.ClearSignInFailures(ctx, "account", accountKey(username))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, accountKey(username))
	return nil
}

// addrKey bounds a client address's length as accountKey bounds a username's.
func addrKey(addr string) string {
	if len(addr) > 128 {
		return addr[:128]
	}
	return addr
}

// record counts one failure under key and locks it when it reaches limit within window.
func record(m map[string]*failures, key string, now time.Time, limit, tracked int, window, lock time.Duration) (time.Time, bool) {
	f := m[key]
	if f == nil {
		if len(m) >= tracked {
			evict(m, now, window)
		}
		f = &failures{first: now}
		m[key] = f
	}
	if now.Sub(f.first) > window && !now.Before(f.lockedUntil) {
		*f = failures{first: now}
	}
	f.count++
	if f.count >= limit {
		f.count, f.first, f.lockedUntil = 0, now, now.Add(lock)
		return f.lockedUntil, true
	}
	return time.Time{}, false
}

// evict makes room: forgotten failures first, else one record that is not a live lock, else
// any one (the map never grows past its bound).
func evict(m map[string]*failures, now time.Time, window time.Duration) {
	before := len(m)
	for k, f := range m {
		if now.Sub(f.first) > window && !now.Before(f.lockedUntil) {
			delete(m, k)
		}
	}
	if len(m) < before {
		return
	}
	for k, f := range m {
		if !now.Before(f.lockedUntil) {
			delete(m, k)
			return
		}
	}
	for k := range m {
		delete(m, k)
		return
	}
}
