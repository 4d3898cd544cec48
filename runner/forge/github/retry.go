package github

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retrying is the transport under every API call. It retries a call GitHub
// answered with a 5xx (but 501), a rate limit or nothing at all (a
// connection failure), waiting what GitHub asks:
//
//   - a primary rate limit (403 or 429 with X-RateLimit-Remaining: 0)
//     until X-RateLimit-Reset;
//   - a secondary rate limit (403 or 429 with Retry-After, or whose body
//     names the secondary rate limit) for Retry-After, else a minute, as
//     GitHub's documentation asks;
//   - otherwise an exponential backoff with jitter from lo.
//
// A wait longer than hi is not waited for: the answer is returned as is,
// and the caller's error says until when the limit holds.
type retrying struct {
	next    http.RoundTripper
	retries int
	lo, hi  time.Duration
}

// secondaryWait is how long GitHub asks clients to wait after a secondary
// rate limit that names no time.
const secondaryWait = time.Minute

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		try := req
		if attempt > 0 {
			var err error
			if try, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.next.RoundTrip(try)
		if req.Context().Err() != nil || attempt >= t.retries {
			return resp, err
		}
		wait, again := t.wait(resp, err, attempt, time.Now())
		if !again || wait > t.hi {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// wait says whether an answer is worth another try, and after how long.
func (t *retrying) wait(resp *http.Response, err error, attempt int, now time.Time) (time.Duration, bool) {
	if err != nil {
		return t.backoff(attempt), true
	}
	switch code := resp.StatusCode; {
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			if reset, ok := unixHeader(resp.Header.Get("X-RateLimit-Reset")); ok {
				return max(reset.Sub(now)+time.Second, 0), true
			}
		}
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
			return d, true
		}
		if code == http.StatusTooManyRequests || secondaryLimit(resp) {
			return max(secondaryWait, t.backoff(attempt)), true
		}
		return 0, false
	case code >= 500 && code != http.StatusNotImplemented:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
			return d, true
		}
		return t.backoff(attempt), true
	}
	return 0, false
}

// backoff doubles from lo for each attempt, capped at hi, with jitter.
func (t *retrying) backoff(attempt int) time.Duration {
	d := t.lo
	for i := 0; i < attempt && d < t.hi; i++ {
		d *= 2
	}
	d = min(d, t.hi)
	return d/2 + rand.N(d/2+1)
}

// secondaryLimit reports whether a 403 is GitHub's secondary rate limit,
// from its message; the body is put back for the caller to read.
func secondaryLimit(resp *http.Response) bool {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	lower := strings.ToLower(string(body))
	return err == nil && (strings.Contains(lower, "secondary rate limit") || strings.Contains(lower, "abuse"))
}

func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func unixHeader(v string) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

// rewind is req again, with its body from the start.
func rewind(req *http.Request) (*http.Request, error) {
	again := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return again, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("github: cannot retry a request whose body cannot be read again")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	again.Body = body
	return again, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
