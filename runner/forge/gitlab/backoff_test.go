package gitlab

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 10*time.Second
	resp := func(status int, h ...string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		for i := 0; i < len(h); i += 2 {
			r.Header.Set(h[i], h[i+1])
		}
		return r
	}
	now := time.Now()
	for _, tc := range []struct {
		name     string
		resp     *http.Response
		attempt  int
		min, max time.Duration
	}{
		{"Retry-After seconds", resp(429, "Retry-After", "3"), 0, 3 * time.Second, 3 * time.Second},
		{"Retry-After zero", resp(503, "Retry-After", "0"), 2, 0, 0},
		{"Retry-After capped", resp(429, "Retry-After", "3600"), 0, hi, hi},
		{"Retry-After date", resp(429, "Retry-After", now.Add(5*time.Second).UTC().Format(http.TimeFormat)), 0, 3 * time.Second, 5 * time.Second},
		{"RateLimit-Reset", resp(429, "RateLimit-Reset", strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)), 0, 2 * time.Second, 4 * time.Second},
		{"500 ignores Retry-After", resp(500, "Retry-After", "9"), 0, lo / 2, lo},
		{"exponential", resp(502), 3, 400 * time.Millisecond, 800 * time.Millisecond},
		{"exponential capped", resp(502), 30, hi / 2, hi},
		{"no response", nil, 1, 100 * time.Millisecond, 200 * time.Millisecond},
		{"garbage header", resp(429, "Retry-After", "soon"), 0, lo / 2, lo},
	} {
		for range 20 {
			if got := backoff(lo, hi, tc.attempt, tc.resp); got < tc.min || got > tc.max {
				t.Errorf("%s: backoff = %v, want within [%v, %v]", tc.name, got, tc.min, tc.max)
				break
			}
		}
	}
}

func TestRedact(t *testing.T) {
	const tok = "glpat-a/b+c"
	got := redact("x glpat-a/b+c y glpat-a%2Fb%2Bc z", tok)
	if got != "x [REDACTED] y [REDACTED] z" {
		t.Errorf("redact = %q", got)
	}
}
