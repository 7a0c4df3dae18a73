package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiClient calls herolink's partner API as a partner would.
type apiClient struct {
	base, key, group string
	hc               *http.Client
}

func newAPIClient(base, key, group string, conns int) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = conns, conns, conns
	return &apiClient{base: base, key: key, group: group, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// do sends a request with the key's headers and returns the status and body.
func (c *apiClient) do(ctx context.Context, method, path string, body any, header http.Header) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("x-practice-group-id", c.group)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// expect GETs path and fails unless the answer has the status.
func (c *apiClient) expect(ctx context.Context, path string, status int) error {
	got, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	if got != status {
		return fmt.Errorf("GET %s: %d, want %d: %.200s", path, got, status, body)
	}
	return nil
}

// freeSlots pages through GET /v1/slots from tomorrow to days ahead until it has n slot ids.
func (c *apiClient) freeSlots(ctx context.Context, n, days int) ([]string, error) {
	from := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	to := time.Now().AddDate(0, 0, days).Format(time.DateOnly)
	var out []string
	cursor := ""
	for len(out) < n {
		path := "/v1/slots?limit=500&start_date=" + from + "&end_date=" + to
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("bench: list slots: %d %v %s", status, err, body)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, s := range page.Data {
			out = append(out, s.ID)
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			break
		}
		cursor = *page.NextCursor
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// str reads one string member of a JSON object.
func str(body []byte, key string) string {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	s, _ := m[key].(string)
	return s
}

// count reads the count of a {data, count} list.
func count(body []byte) int {
	var m struct {
		Count int `json:"count"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Count
}
