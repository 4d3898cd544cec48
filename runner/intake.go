package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
)

// Kinds of queued items.
const (
	kindEvent = "event" // a webhook event (forge.Event)
	kindSweep = "sweep" // check whether a merge request still needs its locks
)

// mrRef names a merge request across forges and repositories. Its String
// form, "gitlab/acme/infra!12", owns the merge request's locks and groups
// its queued events, so they are handled one at a time, in order.
type mrRef struct {
	Forge  string `json:"forge"`
	Repo   string `json:"repo"`
	Number int64  `json:"number"`
}

func (r mrRef) String() string { return fmt.Sprintf("%s/%s!%d", r.Forge, r.Repo, r.Number) }

// repoKey is "forge/repo", what --repo-allowlist globs match.
func (r mrRef) repoKey() string { return r.Forge + "/" + r.Repo }

// parseRef reads the String form back; ok is false for other owners (a
// lock taken with the CLI, a drift scan's lock).
func parseRef(s string) (mrRef, bool) {
	i := strings.LastIndex(s, "!")
	slash := strings.Index(s, "/")
	if i < 0 || slash < 0 || slash > i {
		return mrRef{}, false
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return mrRef{}, false
	}
	return mrRef{Forge: s[:slash], Repo: s[slash+1 : i], Number: n}, true
}

// shortRef is how a comment names another merge request: "!12" in the same
// repository, the full reference elsewhere.
func (r mrRef) shortRef(other string) string {
	if o, ok := parseRef(other); ok && o.Forge == r.Forge && o.Repo == r.Repo {
		return fmt.Sprintf("!%d", o.Number)
	}
	return other
}

func refOf(ev forge.Event) mrRef { return mrRef{Forge: ev.Forge, Repo: ev.Repo, Number: ev.Number} }

// allowed reports whether --repo-allowlist admits the repository.
func (s *Server) allowed(repoKey string) bool {
	for _, g := range s.cfg.RepoAllowlist {
		if ok, _ := doublestar.Match(strings.TrimSpace(g), repoKey); ok {
			return true
		}
	}
	return false
}

// handleEvent is the webhook endpoint. The forge adapter checks the secret
// in constant time before the body is read; the event is on the durable
// queue before the 202 goes out, so a crash after the answer loses
// nothing, and a redelivery is recognised by its delivery ID.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	name := s.cfg.Forge.Name()
	ev, err := s.cfg.Forge.ParseWebhook(r)
	if err != nil {
		code := forge.WebhookStatus(err)
		result := map[int]string{
			http.StatusUnauthorized: "unauthorized", http.StatusBadRequest: "bad_request",
			http.StatusRequestEntityTooLarge: "bad_request", http.StatusOK: "ignored",
		}[code]
		if result == "" {
			result = "error"
		}
		s.metrics.events.WithLabelValues(name, "", result).Inc()
		if code != http.StatusOK {
			s.log.Warn("webhook refused", "forge", name, "status", code, "err", err, "remote", r.RemoteAddr)
		}
		http.Error(w, err.Error(), code)
		return
	}
	ref := refOf(ev)
	action := string(ev.Action)
	if !s.allowed(ref.repoKey()) {
		s.metrics.events.WithLabelValues(name, action, "refused").Inc()
		s.log.Warn("webhook for a repository outside --repo-allowlist", "repo", ref.repoKey())
		http.Error(w, fmt.Sprintf("repository %s is not in strata's --repo-allowlist", ref.repoKey()), http.StatusForbidden)
		return
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		http.Error(w, "encode event", http.StatusInternalServerError)
		return
	}
	accepted, err := s.cfg.Queue.Put(r.Context(), queue.Item{
		ID: name + ":" + ev.DeliveryID, Group: ref.String(), Kind: kindEvent, Payload: payload,
	})
	if err != nil {
		s.metrics.events.WithLabelValues(name, action, "error").Inc()
		s.log.Error("queue: cannot store event", "mr", ref.String(), "err", err)
		code := http.StatusServiceUnavailable
		if errors.Is(err, r.Context().Err()) {
			code = http.StatusRequestTimeout
		}
		http.Error(w, "cannot queue the event; the forge will retry", code)
		return
	}
	if !accepted {
		s.metrics.events.WithLabelValues(name, action, "duplicate").Inc()
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "duplicate delivery: already queued")
		return
	}
	s.rememberRepo(r.Context(), ev)
	s.metrics.events.WithLabelValues(name, action, "accepted").Inc()
	s.log.Info("event queued", "mr", ref.String(), "action", action, "user", ev.User, "delivery", ev.DeliveryID)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "queued")
}
