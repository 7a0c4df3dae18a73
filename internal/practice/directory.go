package practice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrUnknownODS means the directory has no organisation with that ODS code.
var ErrUnknownODS = errors.New("practice: unknown ODS code")

// DirectoryEntry is an organisation as the ODS-to-CDB directory knows it.
type DirectoryEntry struct {
	ODS  string `json:"ods"`
	CDB  int    `json:"cdb"`
	Name string `json:"name"`
}

// Directory resolves an ODS code to EMIS's CDB number.
type Directory interface {
	Lookup(ctx context.Context, ods string) (DirectoryEntry, error)
}

// HTTPDirectory asks a directory service: GET {BaseURL}/{ods} answering {ods, cdb, name},
// 404 for an unknown code. The sandbox serves one at /sandbox/v1/directory.
type HTTPDirectory struct {
	BaseURL string
	Client  *http.Client
	Timeout time.Duration
}

// Lookup resolves one ODS code.
func (d *HTTPDirectory) Lookup(ctx context.Context, ods string) (DirectoryEntry, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(d.BaseURL, "/")+"/"+url.PathEscape(ods), nil)
	if err != nil {
		return DirectoryEntry{}, fmt.Errorf("practice: directory: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return DirectoryEntry{}, fmt.Errorf("practice: directory: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return DirectoryEntry{}, ErrUnknownODS
	default:
		return DirectoryEntry{}, fmt.Errorf("practice: directory answered HTTP %d", resp.StatusCode)
	}
	var e DirectoryEntry
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e); err != nil || e.CDB <= 0 {
		return DirectoryEntry{}, fmt.Errorf("practice: directory answer for %s is not an organisation", ods)
	}
	return e, nil
}
