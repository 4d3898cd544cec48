package gitlab

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/strata-iac/strata/runner/forge"
)

// Name is the forge name in events and lock keys.
const Name = "gitlab"

// CommentLimit is the largest note body GitLab accepts, in characters.
const CommentLimit = 1_000_000

// Defaults for Options fields left zero.
const (
	DefaultBaseURL         = "https://gitlab.com"
	DefaultTimeout         = 30 * time.Second
	DefaultRetries         = 4
	DefaultRetryWaitMin    = 500 * time.Millisecond
	DefaultRetryWaitMax    = 60 * time.Second
	DefaultMaxWebhookBytes = 25 << 20
)

// Options configure a Client. Only Token is required.
type Options struct {
	// BaseURL is the GitLab instance, e.g. "https://gitlab.example.com"
	// (the server's --gitlab-url). It must not hold credentials.
	BaseURL string
	// Token is a personal, group or project access token with the api
	// scope. It is sent as PRIVATE-TOKEN and used for clones; it never
	// appears in errors.
	Token string
	// WebhookSecret is the webhook's secret token. When empty, every
	// delivery is refused.
	WebhookSecret string

	// HTTPClient replaces the default client (e.g. for a private CA).
	// Timeout is then ignored in favour of the client's own.
	HTTPClient *http.Client
	// Timeout bounds each attempt of an API call.
	Timeout time.Duration
	// Retries is how many times a call is retried after a 429, a 5xx or
	// a connection failure. Zero means DefaultRetries; negative, none.
	Retries int
	// RetryWaitMin and RetryWaitMax bound the wait between attempts. A
	// Retry-After (or RateLimit-Reset) header sets the wait, up to
	// RetryWaitMax; otherwise the wait doubles from RetryWaitMin.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxWebhookBytes bounds a webhook body.
	MaxWebhookBytes int64
	// AllowFileRemotes lets CloneAuth accept file:// clone URLs (tests,
	// the server's --allow-file-remotes).
	AllowFileRemotes bool
}

// Client is the GitLab forge. It implements forge.Forge.
type Client struct {
	api  *gl.Client
	base *url.URL
	opts Options

	secretSum [sha256.Size]byte

	botMu sync.Mutex
	bot   *gl.User
}

var _ forge.Forge = (*Client)(nil)

// New returns a GitLab forge for opts.
func New(opts Options) (*Client, error) {
	if opts.Token == "" {
		return nil, errors.New("gitlab: no API token given")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	if opts.RetryWaitMax < opts.RetryWaitMin {
		opts.RetryWaitMax = opts.RetryWaitMin
	}
	if opts.MaxWebhookBytes <= 0 {
		opts.MaxWebhookBytes = DefaultMaxWebhookBytes
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = cleanhttp.DefaultPooledClient()
		hc.Timeout = opts.Timeout
	}

	clientOpts := []gl.ClientOptionFunc{
		gl.WithBaseURL(base.String()),
		gl.WithHTTPClient(hc),
		gl.WithURLWarningLogger(slog.New(slog.DiscardHandler)),
		gl.WithCustomBackoff(backoff),
		gl.WithCustomRetryWaitMinMax(opts.RetryWaitMin, opts.RetryWaitMax),
	}
	switch {
	case opts.Retries < 0:
		clientOpts = append(clientOpts, gl.WithoutRetries())
	case opts.Retries == 0:
		clientOpts = append(clientOpts, gl.WithCustomRetryMax(DefaultRetries))
	default:
		clientOpts = append(clientOpts, gl.WithCustomRetryMax(opts.Retries))
	}
	api, err := gl.NewClient(opts.Token, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %s", redact(err.Error(), opts.Token))
	}
	api.UserAgent = "strata"

	c := &Client{api: api, base: base, opts: opts}
	if opts.WebhookSecret != "" {
		c.secretSum = sha256.Sum256([]byte(opts.WebhookSecret))
	}
	return c, nil
}

// parseBaseURL checks that raw is an http(s) URL without credentials. Its
// errors never repeat the URL, which might hold a secret.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("gitlab: --gitlab-url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("gitlab: --gitlab-url must be an http or https URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("gitlab: --gitlab-url has no host")
	}
	if u.User != nil {
		return nil, errors.New("gitlab: --gitlab-url must not contain credentials; give the token through STRATA_GITLAB_TOKEN")
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// Name implements forge.Forge.
func (c *Client) Name() string { return Name }

// CommentLimit implements forge.Forge.
func (c *Client) CommentLimit() int { return CommentLimit }

// BotUsername implements forge.Notes.
func (c *Client) BotUsername(ctx context.Context) (string, error) {
	u, err := c.self(ctx)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// self returns the token's user, asking GitLab once.
func (c *Client) self(ctx context.Context) (*gl.User, error) {
	c.botMu.Lock()
	defer c.botMu.Unlock()
	if c.bot != nil {
		return c.bot, nil
	}
	u, resp, err := c.api.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return nil, c.fail("get the token's user", resp, err)
	}
	c.bot = u
	return u, nil
}

// fail turns an error from client-go into a *forge.APIError with the token
// removed from every string.
func (c *Client) fail(op string, resp *gl.Response, err error) error {
	e := &forge.APIError{Op: "gitlab: " + op}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	var er *gl.ErrorResponse
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = context.DeadlineExceeded
	case errors.Is(err, gl.ErrNotFound):
		e.Status, e.Kind = http.StatusNotFound, forge.ErrNotFound
	case errors.As(err, &er):
		if er.Response != nil {
			e.Status = er.Response.StatusCode
		}
		e.Message = redact(apiMessage(er), c.opts.Token)
		if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
			e.Kind = forge.ErrPermission
		}
		return e
	}
	if e.Kind != forge.ErrNotFound {
		e.Message = redact(err.Error(), c.opts.Token)
	}
	return e
}

// apiMessage is GitLab's message in an error answer: the "message" or
// "error" string when there is one, else client-go's rendering of the body.
func apiMessage(er *gl.ErrorResponse) string {
	var body map[string]any
	if json.Unmarshal(er.Body, &body) == nil {
		for _, k := range []string{"message", "error"} {
			if s, ok := body[k].(string); ok && s != "" {
				return s
			}
		}
	}
	return er.Message
}

// redact removes every form of token from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	for _, t := range []string{token, url.QueryEscape(token), url.PathEscape(token)} {
		s = strings.ReplaceAll(s, t, "[REDACTED]")
	}
	return s
}

// backoff is the wait before retry attempt+1. It honours Retry-After
// (seconds or an HTTP date) and GitLab's RateLimit-Reset (a Unix time) on
// 429 and 503 answers, capped at hi; otherwise it doubles from lo with
// jitter, also capped at hi.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := serverWait(resp.Header, time.Now()); ok {
			return clamp(d, 0, hi)
		}
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = clamp(d, lo, hi)
	return d/2 + rand.N(d/2+1)
}

// serverWait reads how long the server asked us to wait.
func serverWait(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return t.Sub(now), true
		}
	}
	if v := h.Get("RateLimit-Reset"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
			return time.Unix(s, 0).Sub(now), true
		}
	}
	return 0, false
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
