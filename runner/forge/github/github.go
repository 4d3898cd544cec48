package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v88/github"
	"github.com/hashicorp/go-cleanhttp"

	"github.com/strata-iac/strata/runner/forge"
)

// Name is the forge name in events and lock keys.
const Name = "github"

// CommentLimit is the largest comment body GitHub accepts, in characters.
const CommentLimit = 65_536

// Defaults for Options fields left zero.
const (
	DefaultBaseURL         = "https://api.github.com"
	DefaultTimeout         = 30 * time.Second
	DefaultRetries         = 4
	DefaultRetryWaitMin    = 500 * time.Millisecond
	DefaultRetryWaitMax    = 60 * time.Second
	DefaultMaxWebhookBytes = 25 << 20
	DefaultMergeablePolls  = 5
	DefaultMergeableWait   = time.Second
)

// Options configure a Client. Either Token, or AppID and AppKey, are
// required.
type Options struct {
	// BaseURL is the API base (the server's --github-url):
	// https://api.github.com, or https://HOST/api/v3 for GitHub
	// Enterprise Server. It must not hold credentials.
	BaseURL string
	// Token is a personal access token (or any token GitHub accepts as a
	// bearer token). It is sent to the API and used for clones; it never
	// appears in errors.
	Token string
	// BotLogin is the login Token acts as, for a token that may not ask
	// GitHub (GET /user answers 403): GitHub Actions' GITHUB_TOKEN, which
	// acts as github-actions[bot]. Empty: GitHub is asked.
	BotLogin string
	// AppID and AppKey (the App's PEM private key) make the client act as
	// a GitHub App, through installation tokens.
	AppID  int64
	AppKey []byte
	// WebhookSecret is the webhook's secret. When empty, every delivery is
	// refused.
	WebhookSecret string

	// HTTPClient replaces the default client (e.g. for a private CA); its
	// transport carries every call. Timeout is then ignored in favour of
	// the client's own.
	HTTPClient *http.Client
	// Timeout bounds each attempt of an API call.
	Timeout time.Duration
	// Retries is how many times a call is retried after a 5xx, a rate
	// limit or a connection failure. Zero means DefaultRetries; negative,
	// none.
	Retries int
	// RetryWaitMin and RetryWaitMax bound the wait between attempts. A
	// rate limit's Retry-After or X-RateLimit-Reset sets the wait; one
	// longer than RetryWaitMax is not waited for: the call fails at once.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxWebhookBytes bounds a webhook body.
	MaxWebhookBytes int64
	// AllowFileRemotes lets payloads name file:// clone URLs (tests, the
	// server's --allow-file-remotes).
	AllowFileRemotes bool
	// PlanDrafts makes draft pull requests planned like the others. By
	// default their opened, reopened and synchronize events are ignored
	// until they are marked ready for review.
	PlanDrafts bool
	// MergeablePolls and MergeableWait bound how often, and how far apart,
	// MergeRequest reads a pull request again while GitHub is still
	// computing whether it can be merged.
	MergeablePolls int
	MergeableWait  time.Duration
	// Logger receives what cannot be returned: a clone whose installation
	// token could not be had. Default slog.Default().
	Logger *slog.Logger
}

// Client is the GitHub forge. It implements forge.Forge.
type Client struct {
	opts Options
	base *url.URL // the API base, its path ending in "/"
	web  *url.URL // scheme and host of the web UI and clone URLs
	log  *slog.Logger

	// token is the API client with Options.Token; nil for an App.
	token *gh.Client
	// apps and app authenticate as the App itself (a JWT), to find
	// installations and the App's slug; nil with a token.
	apps *ghinstallation.AppsTransport
	app  *gh.Client
	// rt carries every request: retries under the authentication.
	rt http.RoundTripper

	mu       sync.Mutex
	installs map[int64]*installation // by installation ID
	owners   map[string]int64        // installation of a repository or organisation, by lower-case name
	bot      string
}

var _ forge.Forge = (*Client)(nil)

// New returns a GitHub forge for opts.
func New(opts Options) (*Client, error) {
	switch {
	case opts.Token != "" && opts.AppID != 0:
		return nil, errors.New("github: give either a token or a GitHub App (--github-app-id and --github-app-key-file), not both")
	case opts.Token == "" && opts.AppID == 0:
		return nil, errors.New("github: no token and no GitHub App given")
	case opts.AppID != 0 && len(opts.AppKey) == 0:
		return nil, errors.New("github: the GitHub App needs its private key (--github-app-key-file)")
	case opts.AppID < 0:
		return nil, fmt.Errorf("github: --github-app-id must be the App's numeric ID, got %d", opts.AppID)
	case opts.BotLogin != "" && opts.AppID != 0:
		return nil, errors.New("github: a bot login goes with a token; a GitHub App's login is its slug")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	base, web, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	setDefaults(&opts)
	hc := opts.HTTPClient
	if hc == nil {
		hc = cleanhttp.DefaultPooledClient()
		hc.Timeout = opts.Timeout
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := &Client{opts: opts, base: base, web: web, log: opts.Logger,
		installs: map[int64]*installation{}, owners: map[string]int64{}, bot: opts.BotLogin}
	c.rt = &retrying{next: next, retries: opts.Retries, lo: opts.RetryWaitMin, hi: opts.RetryWaitMax}
	if opts.Token != "" {
		c.token, err = c.newAPI(c.rt, hc.Timeout, gh.WithAuthToken(opts.Token))
		return c, err
	}
	c.apps, err = ghinstallation.NewAppsTransport(c.rt, opts.AppID, opts.AppKey)
	if err != nil {
		return nil, fmt.Errorf("github: the GitHub App's private key: %w", err)
	}
	c.apps.BaseURL = strings.TrimSuffix(base.String(), "/")
	c.app, err = c.newAPI(c.apps, hc.Timeout)
	return c, err
}

func setDefaults(o *Options) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	o.RetryWaitMax = max(o.RetryWaitMax, o.RetryWaitMin)
	if o.MaxWebhookBytes <= 0 {
		o.MaxWebhookBytes = DefaultMaxWebhookBytes
	}
	if o.MergeablePolls <= 0 {
		o.MergeablePolls = DefaultMergeablePolls
	}
	if o.MergeableWait <= 0 {
		o.MergeableWait = DefaultMergeableWait
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// newAPI is a go-github client on rt. go-github's own rate-limit
// bookkeeping is off: the retrying transport underneath waits what GitHub
// asks, and a client must not refuse calls on the word of an earlier one.
func (c *Client) newAPI(rt http.RoundTripper, timeout time.Duration, extra ...gh.ClientOptionsFunc) (*gh.Client, error) {
	base := c.base.String()
	opts := append([]gh.ClientOptionsFunc{
		gh.WithHTTPClient(&http.Client{Transport: rt, Timeout: timeout}),
		gh.WithURLs(&base, &base), gh.WithUserAgent("strata"), gh.WithDisableRateLimitCheck(),
	}, extra...)
	api, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github: %s", redact(err.Error(), c.opts.Token))
	}
	return api, nil
}

// parseBaseURL checks that raw is an http(s) URL without credentials and
// derives the web host: the API host without its "api." (github.com for
// api.github.com, acme.ghe.com for api.acme.ghe.com), else the same host
// (GitHub Enterprise Server serves both). Its errors never repeat the URL,
// which might hold a secret.
func parseBaseURL(raw string) (base, web *url.URL, err error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, nil, errors.New("github: --github-url is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, nil, fmt.Errorf("github: --github-url must be an http or https URL, got scheme %q", u.Scheme)
	case u.Host == "":
		return nil, nil, errors.New("github: --github-url has no host")
	case u.User != nil:
		return nil, nil, errors.New("github: --github-url must not contain credentials; give the token through STRATA_GITHUB_TOKEN")
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/"
	web = &url.URL{Scheme: u.Scheme, Host: u.Host}
	if host := strings.ToLower(u.Host); strings.HasPrefix(host, "api.") && strings.Count(host, ".") >= 2 {
		web.Host = strings.TrimPrefix(host, "api.")
	}
	return u, web, nil
}

// Name implements forge.Forge.
func (c *Client) Name() string { return Name }

// CommentLimit implements forge.Forge.
func (c *Client) CommentLimit() int { return CommentLimit }

// BotUsername implements forge.Notes: Options.BotLogin when set, else the
// token's user, or for an App "<slug>[bot]", the user its installation
// tokens act as.
func (c *Client) BotUsername(ctx context.Context) (string, error) {
	c.mu.Lock()
	bot := c.bot
	c.mu.Unlock()
	if bot != "" {
		return bot, nil
	}
	if c.token != nil {
		u, resp, err := c.token.Users.Get(ctx, "")
		if err != nil {
			failure := c.fail("get the token's user", resp, err)
			if resp != nil && resp.StatusCode == http.StatusForbidden {
				failure = fmt.Errorf("%w (GitHub does not tell an installation token whom it acts as: use a user's token, a GitHub App, or in GitHub Actions the job's GITHUB_TOKEN)", failure)
			}
			return "", failure
		}
		bot = u.GetLogin()
	} else {
		a, resp, err := c.app.Apps.Get(ctx, "")
		if err != nil {
			return "", c.fail("get the GitHub App", resp, err)
		}
		bot = a.GetSlug() + "[bot]"
	}
	c.mu.Lock()
	c.bot = bot
	c.mu.Unlock()
	return bot, nil
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("github: %q is not a repository name of the form owner/name", repo)
	}
	return owner, name, nil
}

// fail turns an error from go-github into a *forge.APIError with the
// token removed from every string.
func (c *Client) fail(op string, resp *gh.Response, err error) error {
	e := &forge.APIError{Op: "github: " + op}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	var er *gh.ErrorResponse
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	switch {
	case errors.Is(err, context.Canceled):
		e.Kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = context.DeadlineExceeded
	case errors.As(err, &rl):
		e.Message = fmt.Sprintf("rate limit exceeded until %s", rl.Rate.Reset.Format(time.RFC3339))
		return e
	case errors.As(err, &ab):
		e.Message = "secondary rate limit: " + redact(ab.Message, c.opts.Token)
		return e
	case errors.As(err, &er):
		e.Message = redact(apiMessage(er), c.opts.Token)
		switch e.Status {
		case http.StatusNotFound:
			e.Kind = forge.ErrNotFound
		case http.StatusUnauthorized, http.StatusForbidden:
			e.Kind = forge.ErrPermission
		}
		return e
	}
	e.Message = redact(err.Error(), c.opts.Token)
	return e
}

// apiMessage is GitHub's message in an error answer, with the details of
// a validation failure.
func apiMessage(er *gh.ErrorResponse) string {
	msg := er.Message
	for _, d := range er.Errors {
		if d.Message != "" {
			msg += "; " + d.Message
		} else if d.Field != "" {
			msg += fmt.Sprintf("; %s %s", d.Field, d.Code)
		}
	}
	return msg
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
