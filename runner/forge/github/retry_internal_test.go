package github

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRetryWaits: what each kind of answer is worth waiting for.
func TestRetryWaits(t *testing.T) {
	rt := &retrying{retries: 4, lo: time.Second, hi: 2 * time.Minute}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	answer := func(code int, body string, header ...string) *http.Response {
		h := http.Header{}
		for i := 0; i < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	for _, tc := range []struct {
		name  string
		resp  *http.Response
		err   error
		again bool
		lo    time.Duration
		hi    time.Duration
	}{
		{"primary limit", answer(403, "", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1767323105"), nil, true, 60 * time.Second, 61 * time.Second},
		{"secondary with Retry-After", answer(403, "", "Retry-After", "30"), nil, true, 30 * time.Second, 30 * time.Second},
		{"secondary named in the body", answer(403, `{"message":"You have exceeded a secondary rate limit."}`), nil, true, time.Minute, time.Minute},
		{"429 without headers", answer(429, ""), nil, true, time.Minute, time.Minute},
		{"Retry-After as a date", answer(503, "", "Retry-After", now.Add(5*time.Second).Format(http.TimeFormat)), nil, true, 5 * time.Second, 5 * time.Second},
		{"500", answer(500, ""), nil, true, 500 * time.Millisecond, time.Second},
		{"connection refused", nil, errors.New("dial tcp: connection refused"), true, 500 * time.Millisecond, time.Second},
		{"a plain 403", answer(403, `{"message":"Resource not accessible by integration"}`), nil, false, 0, 0},
		{"501", answer(501, ""), nil, false, 0, 0},
		{"404", answer(404, ""), nil, false, 0, 0},
	} {
		d, again := rt.wait(tc.resp, tc.err, 0, now)
		if again != tc.again || d < tc.lo || d > tc.hi {
			t.Errorf("%s: wait %v, again %v; want %v in [%v, %v]", tc.name, d, again, tc.again, tc.lo, tc.hi)
		}
		if tc.resp != nil {
			if b, _ := io.ReadAll(tc.resp.Body); tc.name == "secondary named in the body" && len(b) == 0 {
				t.Errorf("%s: the body was not put back", tc.name)
			}
		}
	}
}
