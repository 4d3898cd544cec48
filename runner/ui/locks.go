package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
)

// lockRow is one lock as the locks page shows it.
type lockRow struct {
	lock.Lock
	MR     string // the owner's merge request ("acme/infra!12"), when it is one
	MRURL  string // its page on the forge, when known
	RunsAt string // the runs page of that merge request
}

func (u *UI) lockRow(l lock.Lock) lockRow {
	row := lockRow{Lock: l}
	repo, n, ok := parseOwner(l.Owner)
	if !ok {
		return row
	}
	forgeName, path, _ := strings.Cut(repo, "/")
	row.MR = path + "!" + strconv.FormatInt(n, 10)
	row.RunsAt = "/ui/runs?" + url.Values{"repo": {repo}, "mr": {strconv.FormatInt(n, 10)}}.Encode()
	row.MRURL = mrURL(u.cfg.ForgeWeb[forgeName], forgeName, path, n)
	return row
}

// parseOwner reads a lock owner the server wrote: "forge/owner/name!N".
func parseOwner(owner string) (repo string, n int64, ok bool) {
	repo, num, found := strings.Cut(owner, "!")
	if !found || !strings.Contains(repo, "/") {
		return "", 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return repo, n, err == nil && n > 0
}

// mrURL is a merge request's page on its forge, or "" when the forge's
// address is unknown.
func mrURL(base, forgeName, path string, n int64) string {
	base = strings.TrimRight(base, "/")
	if base == "" {
		return ""
	}
	if forgeName == "github" {
		return fmt.Sprintf("%s/%s/pull/%d", base, path, n)
	}
	return fmt.Sprintf("%s/%s/-/merge_requests/%d", base, path, n)
}

func (u *UI) locksPage(w http.ResponseWriter, r *http.Request, user User) {
	locks, err := u.cfg.Locks.List(r.Context())
	if err != nil {
		u.fail(w, "the locks", err)
		return
	}
	rows := make([]lockRow, len(locks))
	for i, l := range locks {
		rows[i] = u.lockRow(l)
	}
	u.render(w, "locks.html", page{Title: "Locks", User: user, Nav: "locks", Body: map[string]any{
		"Locks": rows, "Admin": user.Role == RoleAdmin, "Queue": u.queueStats(r),
		"Unlocked": r.URL.Query().Get("unlocked"),
	}})
}

// confirmUnlock asks an admin to confirm a force-unlock.
func (u *UI) confirmUnlock(w http.ResponseWriter, r *http.Request, user User) {
	if user.Role != RoleAdmin {
		http.Error(w, "force-unlock needs the admin role", http.StatusForbidden)
		return
	}
	key := r.URL.Query().Get("key")
	l, ok, err := u.cfg.Locks.Get(r.Context(), key)
	if err != nil {
		u.fail(w, "the lock", err)
		return
	}
	if !ok {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	u.render(w, "unlock.html", page{Title: "Force-unlock", User: user, Nav: "locks", Body: u.lockRow(l)})
}

// audit is the record of a force-unlock from the web page.
type audit struct {
	Action string    `json:"action"`
	Key    string    `json:"key"`
	Owner  string    `json:"owner"`
	Head   string    `json:"head,omitempty"`
	User   string    `json:"user"`
	Remote string    `json:"remote"`
	At     time.Time `json:"at"`
}

// unlock force-releases a lock for an admin, after the confirmation, and
// records who did it.
func (u *UI) unlock(w http.ResponseWriter, r *http.Request, user User) {
	if !u.checkForm(w, r, user) {
		return
	}
	if user.Role != RoleAdmin {
		u.cfg.Log.Warn("ui: force-unlock refused to a viewer", "user", user.Name, "key", r.PostForm.Get("key"))
		http.Error(w, "force-unlock needs the admin role", http.StatusForbidden)
		return
	}
	key := r.PostForm.Get("key")
	l, ok, err := u.cfg.Locks.Get(r.Context(), key)
	if err != nil {
		u.fail(w, "the lock", err)
		return
	}
	if ok && r.PostForm.Get("owner") != l.Owner {
		http.Error(w, "the lock changed hands since the confirmation: look again", http.StatusConflict)
		return
	}
	if ok {
		rec := audit{Action: "force-unlock", Key: key, Owner: l.Owner, Head: l.Head, User: user.Name, Remote: r.RemoteAddr, At: u.now().UTC()}
		data, _ := json.MarshalIndent(rec, "", "  ")
		if _, err := u.cfg.Store.Put(r.Context(), records.AuditKey(records.NewRunID()), data); err != nil {
			u.fail(w, "the audit record (the lock is left held)", err)
			return
		}
		if err := u.cfg.Locks.ForceRelease(r.Context(), key); err != nil {
			u.fail(w, "the lock", err)
			return
		}
		u.cfg.Log.Warn("ui: lock force-released", "key", key, "owner", l.Owner, "user", user.Name)
	}
	http.Redirect(w, r, "/ui/?"+url.Values{"unlocked": {key}}.Encode(), http.StatusSeeOther)
}

func (u *UI) fail(w http.ResponseWriter, what string, err error) {
	u.cfg.Log.Error("ui: cannot read "+what, "err", err)
	http.Error(w, "strata cannot read "+what+" right now; see the server's log", http.StatusBadGateway)
}

// queueStats are the queue's depth and dead letters; -1 when unknown.
func (u *UI) queueStats(r *http.Request) map[string]int {
	depth, err := u.cfg.Queue.Len(r.Context())
	if err != nil {
		depth = -1
	}
	dead, err := u.cfg.Queue.DeadLen(r.Context())
	if err != nil {
		dead = -1
	}
	return map[string]int{"Depth": depth, "Dead": dead}
}
