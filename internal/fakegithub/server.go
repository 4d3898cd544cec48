package fakegithub

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a new Server.
const (
	// DefaultToken is the personal access token the fake accepts.
	DefaultToken = "ghp_fake0123456789abcdefghijklmnopqrstu"
	// DefaultBot is the user that owns DefaultToken.
	DefaultBot = "strata-bot"
	// rateLimit is the primary rate limit the fake reports.
	rateLimit = 5000
)

// Server is a fake GitHub. Its exported fields are fixed by New; use the
// methods to change its state.
type Server struct {
	URL   string // API base and web host, e.g. http://127.0.0.1:41234
	Token string // the personal access token accepted
	Bot   string // the user that owns Token

	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]*user
	repos    map[string]*repo
	teams    map[string]map[string]string // "org/slug" → login → state
	actions  map[string]string            // GitHub Actions token → repository
	app      *app
	calls    []Call
	failures []*Failure
	onMerge  func(repo string, pr PullRequest) (string, error)
	ids      int64
	clock    time.Time
}

// Call is one API request the fake received.
type Call struct {
	Method string
	Path   string // as sent: /repos/acme/infra/statuses/…
	// Route is the endpoint, e.g. "POST /repos/:owner/:repo/statuses/:sha";
	// "" for unknown endpoints.
	Route string
	Query url.Values
	Body  []byte
	// Auth is who made the call: "token" (the personal token), "jwt" (the
	// App), "installation:ID", "actions" (a GITHUB_TOKEN, see
	// ActionsToken), or "" when unauthenticated.
	Auth   string
	Status int // the status answered
	Time   time.Time
}

// Failure makes the fake answer Status to the next Times requests whose
// route is Route (any route when empty), before checking authentication.
type Failure struct {
	Route      string
	Times      int
	Status     int
	RetryAfter string // Retry-After header value, optional
	// RateLimitReset, when set, makes the answer a primary rate limit:
	// X-RateLimit-Remaining 0 and X-RateLimit-Reset this time.
	RateLimitReset time.Time
	// Secondary makes the answer a secondary rate limit, with GitHub's
	// message and documentation_url (and Retry-After when set).
	Secondary bool
	Message   string // {"message": ...}; the status text when empty
}

// New starts a fake GitHub on a loopback port. Close it when done
// (t.Cleanup(s.Close)).
func New() *Server {
	s := &Server{
		Token:   DefaultToken,
		Bot:     DefaultBot,
		users:   map[string]*user{},
		repos:   map[string]*repo{},
		teams:   map[string]map[string]string{},
		actions: map[string]string{},
		clock:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	s.user(s.Bot)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// OnMerge sets what happens when a pull request is merged through the
// API: fn returns the merge commit SHA (e.g. after a real git merge in a
// test repository) or an error, answered as 405. Without it, the fake
// invents a SHA.
func (s *Server) OnMerge(fn func(repo string, pr PullRequest) (mergeSHA string, err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onMerge = fn
}

// Fail queues a failure.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &f)
}

// FailNext makes the next n requests, whatever they are, answer status,
// with a Retry-After header when retryAfter is not empty.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.Fail(Failure{Times: n, Status: status, RetryAfter: retryAfter})
}

// Calls returns every request received, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the requests to route, e.g. "PUT /repos/:owner/:repo/pulls/:number/merge".
func (s *Server) CallsTo(route string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// now is the fake's clock: it advances a second per use, so timestamps
// are distinct and ordered. Callers hold s.mu.
func (s *Server) now() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

// id hands out the next ID. Callers hold s.mu.
func (s *Server) id() int64 {
	s.ids++
	return s.ids
}

// request is one API request being answered.
type request struct {
	*http.Request
	seg    []string // path segments, unescaped
	params map[string]any
	// login is the user the request acts as; installation is the
	// installation whose token it carries (0 for the personal token).
	login        string
	installation int64
	// actions is set for a GitHub Actions token (see ActionsToken).
	actions bool
}

// response is what a handler answers.
type response struct {
	status int
	body   any
	header http.Header
}

func reply(status int, body any) response { return response{status: status, body: body} }

func message(status int, msg string) response {
	return response{status: status, body: map[string]any{
		"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}}
}

func notFound() response { return message(http.StatusNotFound, "Not Found") }

// invalid is GitHub's 422 for a field that fails validation.
func invalid(resource, field, msg string) response {
	return response{status: http.StatusUnprocessableEntity, body: map[string]any{
		"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
		"errors": []map[string]any{{"resource": resource, "code": "custom", "field": field, "message": msg}},
	}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := Call{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body, Time: time.Now()}
	var seg []string
	for _, p := range strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(p)
		if err != nil {
			u = p
		}
		seg = append(seg, u)
	}
	h, route := findRoute(r.Method, seg)
	call.Route = route

	s.mu.Lock()
	res, auth := s.answer(r, seg, body, h)
	call.Status, call.Auth = res.status, auth
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	hdr := w.Header()
	hdr.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	hdr.Set("X-RateLimit-Remaining", strconv.Itoa(rateLimit-1))
	hdr.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	hdr.Set("X-RateLimit-Resource", "core")
	hdr.Set("X-GitHub-Media-Type", "github.v3; format=json")
	for k, v := range res.header {
		hdr[k] = v
	}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(res.status)
	if res.body != nil {
		_ = json.NewEncoder(w).Encode(res.body)
	}
}

// answer runs failures, authentication and the handler, and says who the
// caller was. Callers hold s.mu.
func (s *Server) answer(r *http.Request, seg []string, body []byte, h handler) (response, string) {
	for i, f := range s.failures {
		if f.Times > 0 && (f.Route == "" || f.Route == routeOf(r.Method, seg)) {
			f.Times--
			if f.Times == 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
			return failure(f), ""
		}
	}
	req := &request{Request: r, seg: seg}
	auth, res := s.authenticate(req)
	if res != nil {
		return *res, auth
	}
	if h == nil {
		return notFound(), auth
	}
	params, err := parseParams(r, body)
	if err != nil {
		return message(http.StatusBadRequest, "Problems parsing JSON"), auth
	}
	req.params = params
	return h(s, req), auth
}

func failure(f *Failure) response {
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	res := message(f.Status, msg)
	if f.Secondary {
		res.body = map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		}
	}
	res.header = http.Header{}
	if f.RetryAfter != "" {
		res.header.Set("Retry-After", f.RetryAfter)
	}
	if !f.RateLimitReset.IsZero() {
		res.header.Set("X-RateLimit-Remaining", "0")
		res.header.Set("X-RateLimit-Used", strconv.Itoa(rateLimit))
		res.header.Set("X-RateLimit-Reset", strconv.FormatInt(f.RateLimitReset.Unix(), 10))
	}
	return res
}

// parseParams merges the query string with a JSON body.
func parseParams(r *http.Request, body []byte) (map[string]any, error) {
	params := map[string]any{}
	for k, v := range r.URL.Query() {
		params[k] = v[len(v)-1]
	}
	if strings.TrimSpace(string(body)) == "" {
		return params, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		params[k] = v
	}
	return params, nil
}

func (r *request) has(key string) bool { _, ok := r.params[key]; return ok }

func (r *request) str(key string) string {
	switch v := r.params[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (r *request) int(key string, def int) int {
	switch v := r.params[key].(type) {
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

// obj reads a JSON object parameter.
func (r *request) obj(key string) map[string]any {
	m, _ := r.params[key].(map[string]any)
	return m
}

// strings reads a JSON array of strings, or a comma-separated string.
func (r *request) strings(key string) []string {
	var out []string
	switch v := r.params[key].(type) {
	case []any:
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
	case string:
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// paginate answers one page of items with GitHub's Link header
// (per_page defaults to 30, at most 100).
func paginate[T any](r *request, items []T) response {
	perPage := min(max(r.int("per_page", 30), 1), 100)
	page := max(r.int("page", 1), 1)
	pages := max(int(math.Ceil(float64(len(items))/float64(perPage))), 1)
	lo := min((page-1)*perPage, len(items))
	hi := min(lo+perPage, len(items))
	var links []string
	link := func(p int, rel string) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		links = append(links, fmt.Sprintf(`<http://%s%s?%s>; rel="%s"`, r.Host, r.URL.Path, q.Encode(), rel))
	}
	if page < pages {
		link(page+1, "next")
		link(pages, "last")
	}
	if page > 1 {
		link(1, "first")
		link(page-1, "prev")
	}
	res := reply(http.StatusOK, append([]T{}, items[lo:hi]...))
	if len(links) > 0 {
		res.header = http.Header{"Link": {strings.Join(links, ", ")}}
	}
	return res
}

// githubTime formats t as GitHub's API does.
func githubTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
