package fakegitlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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
	// DefaultToken is the access token the fake accepts.
	DefaultToken = "glpat-fake-0123456789abcdefghij"
	// DefaultBot is the username that owns DefaultToken.
	DefaultBot = "strata-bot"
)

// Server is a fake GitLab. Its exported fields are fixed by New; use the
// methods to change its state.
type Server struct {
	URL   string // base URL, e.g. http://127.0.0.1:41234; the API is under /api/v4
	Token string // the one access token accepted
	Bot   string // the user that owns Token

	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]*User
	projects map[int64]*project
	groups   map[string]*group
	calls    []Call
	failures []*Failure
	holds    map[string]chan struct{}
	onMerge  func(path string, mr MergeRequest) (string, error)
	ids      struct{ user, project, group, mr, note, status, issue int64 }
	clock    time.Time
}

// Call is one API request the fake received.
type Call struct {
	Method string
	Path   string // as sent, escaped: /api/v4/projects/acme%2Finfra/statuses/…
	// Route is the endpoint, e.g. "POST /projects/:id/statuses/:sha"; ""
	// for unknown endpoints.
	Route  string
	Query  url.Values
	Body   []byte
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
	Message    string // {"message": ...}; the status text when empty
}

// New starts a fake GitLab on a loopback port. Close it when done
// (t.Cleanup(s.Close)).
func New() *Server {
	s := &Server{
		Token:    DefaultToken,
		Bot:      DefaultBot,
		users:    map[string]*User{},
		projects: map[int64]*project{},
		groups:   map[string]*group{},
		clock:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	s.user(s.Bot)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// OnMerge sets what happens when a merge request is merged through the
// API: fn returns the merge commit SHA (e.g. after a real git merge in a
// test repository) or an error, answered as 422. Without it, the fake
// invents a SHA.
func (s *Server) OnMerge(fn func(path string, mr MergeRequest) (mergeSHA string, err error)) {
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

// Hold makes requests to route (e.g. "GET /projects/:id/merge_requests/:iid/notes")
// wait, unanswered, until release is called: a client stuck on the
// forge, at a known point, for tests that stop strata there.
func (s *Server) Hold(route string) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	if s.holds == nil {
		s.holds = map[string]chan struct{}{}
	}
	s.holds[route] = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.holds, route)
			s.mu.Unlock()
			close(ch)
		})
	}
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

// CallsTo returns the requests to route, e.g. "PUT /projects/:id/merge_requests/:iid/merge".
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

// request is one API request being answered.
type request struct {
	*http.Request
	seg    []string // path segments after /api/v4, unescaped
	params map[string]any
	user   *User
}

// response is what a handler answers.
type response struct {
	status int
	body   any
	header http.Header
}

func reply(status int, body any) response { return response{status: status, body: body} }

func message(status int, msg string) response {
	return response{status: status, body: map[string]any{"message": msg}}
}

func notFound(what string) response { return message(http.StatusNotFound, "404 "+what+" Not Found") }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := Call{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body, Time: time.Now()}

	var seg []string
	for _, p := range strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/"), "/") {
		u, err := url.PathUnescape(p)
		if err != nil {
			u = p
		}
		seg = append(seg, u)
	}
	h, route := s.route(r.Method, seg)
	call.Route = route

	s.mu.Lock()
	hold := s.holds[route]
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}

	s.mu.Lock()
	res := s.answer(r, seg, body, route, h)
	call.Status = res.status
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	for k, v := range res.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.status)
	if res.body != nil {
		_ = json.NewEncoder(w).Encode(res.body)
	}
}

// answer runs failures, authentication and the handler. Callers hold s.mu.
func (s *Server) answer(r *http.Request, seg []string, body []byte, route string, h handler) response {
	for i, f := range s.failures {
		if f.Times > 0 && (f.Route == "" || f.Route == route) {
			f.Times--
			if f.Times == 0 {
				s.failures = slices.Delete(s.failures, i, i+1)
			}
			res := message(f.Status, failureMessage(f))
			if f.RetryAfter != "" {
				res.header = http.Header{"Retry-After": {f.RetryAfter}}
			}
			return res
		}
	}
	if !s.authorized(r) {
		return message(http.StatusUnauthorized, "401 Unauthorized")
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v4/") || h == nil {
		return reply(http.StatusNotFound, map[string]any{"error": "404 Not Found"})
	}
	params, err := parseParams(r, body)
	if err != nil {
		return message(http.StatusBadRequest, "400 Bad request - "+err.Error())
	}
	return h(s, &request{Request: r, seg: seg, params: params, user: s.user(s.Bot)})
}

func failureMessage(f *Failure) string {
	if f.Message != "" {
		return f.Message
	}
	return fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
}

// authorized accepts the token as PRIVATE-TOKEN or as a Bearer token.
func (s *Server) authorized(r *http.Request) bool {
	if r.Header.Get("PRIVATE-TOKEN") == s.Token {
		return true
	}
	return r.Header.Get("Authorization") == "Bearer "+s.Token
}

// parseParams merges the query string with a JSON or form body, as
// GitLab's API does.
func parseParams(r *http.Request, body []byte) (map[string]any, error) {
	params := map[string]any{}
	for k, v := range r.URL.Query() {
		params[strings.TrimSuffix(k, "[]")] = v[len(v)-1]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("the body is not a JSON object: %v", err)
		}
		maps.Copy(params, m)
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, v := range form {
			params[k] = v[len(v)-1]
		}
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

// list reads a comma-separated string or a JSON array.
func (r *request) list(key string) []string {
	switch v := r.params[key].(type) {
	case string:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// paginate answers one page of items with GitLab's offset pagination
// headers (per_page defaults to 20, at most 100).
func paginate[T any](r *request, items []T) response {
	perPage := min(max(r.int("per_page", 20), 1), 100)
	page := max(r.int("page", 1), 1)
	total := len(items)
	pages := max(int(math.Ceil(float64(total)/float64(perPage))), 1)
	lo := min((page-1)*perPage, total)
	hi := min(lo+perPage, total)
	h := http.Header{}
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Total", strconv.Itoa(total))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Next-Page", "")
	h.Set("X-Prev-Page", "")
	if page < pages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	page1 := items[lo:hi]
	if page1 == nil {
		page1 = []T{}
	}
	return response{status: http.StatusOK, body: page1, header: h}
}

// gitlabTime formats t as GitLab's API does.
func gitlabTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
