package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// Config wires the web page. Store, Locks and Queue are required, and one
// way to sign in: Users or Proxy.
type Config struct {
	Store store.Store
	Locks lock.Locker
	Queue queue.Queue
	// Users are the accounts of --ui-users-file.
	Users Users
	// Proxy trusts an authenticating proxy's header (--ui-auth-header).
	Proxy *ProxyAuth
	// SessionKey signs sign-in cookies and form tokens; replicas behind
	// one address must share it. Nil makes a random one (sign-ins then
	// last as long as this process).
	SessionKey []byte
	// ForgeWeb maps a forge's name to its web address, for links to merge
	// requests ("gitlab" → "https://gitlab.example.com").
	ForgeWeb map[string]string
	// PageSize is how many runs a page of the runs list shows (default 50).
	PageSize int
	Log      *slog.Logger
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed live.js
var liveJS []byte

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ago":   ago,
	"short": shortSHA,
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
}).ParseFS(templateFS, "templates/*.html"))

// UI serves the web page under /ui.
type UI struct {
	cfg  Config
	sign signer
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]*records.Record // finished run records by key: they do not change
}

// New checks cfg and returns the web page.
func New(cfg Config) (*UI, error) {
	if cfg.Store == nil || cfg.Locks == nil || cfg.Queue == nil || cfg.Log == nil {
		return nil, errors.New("ui: Store, Locks, Queue and Log are required")
	}
	if len(cfg.Users) == 0 && (cfg.Proxy == nil || cfg.Proxy.Header == "") {
		return nil, errors.New("ui: give users (--ui-users-file) or a trusted proxy header (--ui-auth-header): the page shows nothing anonymously")
	}
	if cfg.Proxy != nil && cfg.Proxy.Header != "" && len(cfg.Proxy.From) == 0 {
		return nil, errors.New("--ui-auth-header needs --ui-auth-proxy, the proxy's address range: the header of any other peer could be forged")
	}
	if len(cfg.SessionKey) == 0 {
		cfg.SessionKey = make([]byte, 32)
		_, _ = rand.Read(cfg.SessionKey)
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	return &UI{cfg: cfg, sign: signer{key: cfg.SessionKey}, now: time.Now, cache: map[string]*records.Record{}}, nil
}

// Register adds the page's routes to mux, every one under /ui.
func (u *UI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /ui/login", u.loginPage)
	mux.HandleFunc("POST /ui/login", u.login)
	mux.HandleFunc("POST /ui/logout", u.signedIn(u.logout))
	mux.HandleFunc("GET /ui/{$}", u.signedIn(u.locksPage))
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusFound) })
	mux.HandleFunc("GET /ui/unlock", u.signedIn(u.confirmUnlock))
	mux.HandleFunc("POST /ui/unlock", u.signedIn(u.unlock))
	mux.HandleFunc("GET /ui/runs", u.signedIn(u.runsPage))
	mux.HandleFunc("GET /ui/runs/{path...}", u.signedIn(u.runPage))
	mux.HandleFunc("GET /ui/drift", u.signedIn(u.driftPage))
	mux.HandleFunc("GET /ui/live.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(liveJS)
	})
}

type userKey struct{}

// signedIn lets through requests of a signed-in user (a session cookie
// or the trusted proxy's header) and sends the others to sign in.
func (u *UI) signedIn(h func(http.ResponseWriter, *http.Request, User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := u.cfg.Proxy.user(r)
		if !ok && len(u.cfg.Users) > 0 {
			if c, err := r.Cookie(sessionCookie); err == nil {
				if s, err := u.sign.user(c.Value, u.now()); err == nil {
					user, ok = s, true
				}
			}
		}
		if !ok {
			if r.Method != http.MethodGet {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)), user)
	}
}

// page is what every page's layout shows.
type page struct {
	Title string
	User  User
	CSRF  string
	Nav   string
	Body  any
}

func (u *UI) render(w http.ResponseWriter, name string, p page) {
	p.CSRF = u.sign.csrf(p.User, u.now())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		u.cfg.Log.Error("ui: cannot render", "page", name, "err", err)
	}
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := u.cfg.Proxy.user(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r.URL.Query().Get("next"), "", http.StatusOK)
}

// loginCookie holds the nonce the sign-in form's token is made from, so
// that only a form this server gave out signs anyone in (no login CSRF).
const loginCookie = "strata_login"

func (u *UI) renderLogin(w http.ResponseWriter, next, msg string, code int) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: n, Path: "/ui/login", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_ = pages.ExecuteTemplate(w, "login.html", map[string]any{"Next": safeNext(next), "Error": msg, "Users": len(u.cfg.Users) > 0,
		"CSRF": u.sign.mac("login", n)})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if len(u.cfg.Users) == 0 {
		http.Error(w, "sign in through the authenticating proxy", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := r.PostForm.Get("next")
	if c, err := r.Cookie(loginCookie); err != nil || !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(u.sign.mac("login", c.Value))) {
		u.renderLogin(w, next, "This sign-in form is stale or was not made by strata: sign in again.", http.StatusForbidden)
		return
	}
	user, ok := u.cfg.Users.check(r.PostForm.Get("user"), r.PostForm.Get("password"))
	if !ok {
		u.cfg.Log.Warn("ui: sign-in refused", "user", r.PostForm.Get("user"), "remote", r.RemoteAddr)
		u.renderLogin(w, next, "Wrong name or password.", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: u.sign.session(user, u.now()), Path: "/ui",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		MaxAge: int(sessionTTL.Seconds())})
	u.cfg.Log.Info("ui: signed in", "user", user.Name, "role", string(user.Role))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, user User) {
	if !u.checkForm(w, r, user) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ui", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// checkForm parses a form posted by user and checks its CSRF token.
func (u *UI) checkForm(w http.ResponseWriter, r *http.Request, user User) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	if !u.sign.checkCSRF(user, r.PostForm.Get("csrf"), u.now()) {
		http.Error(w, "this form is stale or was not made by strata: reload the page and try again", http.StatusForbidden)
		return false
	}
	return true
}

// safeNext keeps a redirect after sign-in on this page.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func shortSHA(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}
