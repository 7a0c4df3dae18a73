package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// appointmentBookNotes reads the notes of every slot in an organisation's appointment book from
// today to 43 days ahead, through the sandbox's admin API (no fault applies to it).
func (a *sandboxAdmin) appointmentBookNotes(ctx context.Context, cdb int) ([]string, error) {
	today := time.Now()
	path := fmt.Sprintf("/sandbox/v1/organisations/%d/sessions?slots=1&from=%s&to=%s", cdb,
		today.Format(time.DateOnly), today.AddDate(0, 0, 43).Format(time.DateOnly))
	var sessions []struct {
		Slots []struct {
			Notes string `json:"notes"`
		} `json:"slots"`
	}
	if err := a.do(ctx, http.MethodGet, path, nil, &sessions); err != nil {
		return nil, err
	}
	var out []string
	for _, s := range sessions {
		for _, sl := range s.Slots {
			if sl.Notes != "" {
				out = append(out, sl.Notes)
			}
		}
	}
	return out, nil
}

// measureKeyRevocation revokes a key on the admin pages of the first instance, signed in as a
// member of the practice's staff, and measures how long until every instance refuses the key.
// Each instance is asked with the key first, so that every instance has it cached: the worst
// case for revocation.
func measureKeyRevocation(ctx context.Context, instances []*chaosProc, staffUser, staffPassword string,
	practiceID int64, keyID, secret, group string, bound time.Duration) (time.Duration, error) {
	clients := make([]*apiClient, len(instances))
	for i, p := range instances {
		clients[i] = newAPIClient(p.url(), secret, group, 2)
		if err := clients[i].expect(ctx, "/v1/appointment_types", http.StatusOK); err != nil {
			return 0, fmt.Errorf("key before revocation, %s: %w", p.name, err)
		}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return 0, err
	}
	web := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := instances[0].url()
	post := func(path string, form url.Values) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := web.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	resp, err := post("/admin/login", url.Values{"username": {staffUser}, "password": {staffPassword}})
	if err != nil {
		return 0, fmt.Errorf("sign in: %w", err)
	}
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return 0, fmt.Errorf("sign in: HTTP %d", resp.StatusCode)
	}
	resp, err = post(fmt.Sprintf("/admin/practices/%d/api-keys/%s/revoke", practiceID, keyID), url.Values{})
	if err != nil {
		return 0, fmt.Errorf("revoke: %w", err)
	}
	if resp.StatusCode != http.StatusSeeOther {
		return 0, fmt.Errorf("revoke: HTTP %d", resp.StatusCode)
	}
	revoked := time.Now()
	var wg sync.WaitGroup
	took := make([]time.Duration, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				status, _, err := c.do(ctx, http.MethodGet, "/v1/appointment_types", nil, nil)
				if err == nil && (status == http.StatusUnauthorized || status == http.StatusForbidden) {
					took[i] = time.Since(revoked)
					return
				}
				if time.Since(revoked) > bound || sleepCtx(ctx, 20*time.Millisecond) != nil {
					took[i] = bound
					return
				}
			}
		}()
	}
	wg.Wait()
	return slices.Max(took), nil
}

// syncPassCounter reads the total of herolink_sync_passes_total from an instance's /metrics.
func syncPassCounter(ctx context.Context, hc *http.Client, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s/metrics: HTTP %d", base, resp.StatusCode)
	}
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "herolink_sync_passes_total") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				total += v
			}
		}
	}
	return total, sc.Err()
}

// doubleSyncWatch counts the windows in which more than one instance completed a sync pass.
// The chaos world has one practice, so two instances completing passes in the same window
// were syncing that practice at once. Windows shorter than the near-term interval make a
// pass of each instance land in many windows when nothing stops two instances syncing.
type doubleSyncWatch struct {
	instances []*chaosProc
	hc        *http.Client
	last      []float64
	windows   int
	doubled   int
	advanced  []time.Time // the ends of the windows in which some instance completed a pass
}

func newDoubleSyncWatch(instances []*chaosProc) *doubleSyncWatch {
	return &doubleSyncWatch{instances: instances, hc: &http.Client{Timeout: 5 * time.Second},
		last: make([]float64, len(instances))}
}

// resumedAfter is the first window end after t in which some instance completed a sync pass.
// Read it only once run has returned.
func (w *doubleSyncWatch) resumedAfter(t time.Time) (time.Time, bool) {
	for _, a := range w.advanced {
		if a.After(t) {
			return a, true
		}
	}
	return time.Time{}, false
}

// run reads every instance's counter each interval until ctx ends.
func (w *doubleSyncWatch) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.step(ctx)
	}
}

// step reads every live instance's counter once: one window.
func (w *doubleSyncWatch) step(ctx context.Context) {
	syncing := 0
	for i, p := range w.instances {
		if !p.alive() {
			continue
		}
		v, err := syncPassCounter(ctx, w.hc, p.url())
		if err != nil {
			continue
		}
		// A restarted instance starts counting from zero again.
		if v > w.last[i] || (v > 0 && v < w.last[i]) {
			syncing++
		}
		w.last[i] = v
	}
	w.windows++
	if syncing > 0 {
		w.advanced = append(w.advanced, time.Now())
	}
	if syncing > 1 {
		w.doubled++
	}
}
