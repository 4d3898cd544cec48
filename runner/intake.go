package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
)

// intake is a forge's webhook endpoint. The forge adapter checks the
// secret in constant time before the body is read; the event is on the
// durable queue before the 202 goes out, so a crash after the answer loses
// nothing, and a redelivery is recognised by its delivery ID.
func (s *Server) intake(w http.ResponseWriter, r *http.Request, f forge.Forge) {
	name := f.Name()
	ev, err := f.ParseWebhook(r)
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
	ref := ev.MRRef()
	action := string(ev.Action)
	if !s.allowed(ref.RepoRef) {
		s.metrics.events.WithLabelValues(name, action, "refused").Inc()
		s.log.Warn("webhook for a repository outside --repo-allowlist", "repo", ref.RepoRef.String())
		http.Error(w, fmt.Sprintf("repository %s is not in strata's --repo-allowlist", ref.RepoRef), http.StatusForbidden)
		return
	}
	if ev.Action == forge.ActionPushed {
		s.drift.Remember(r.Context(), ev)
		s.metrics.events.WithLabelValues(name, action, "recorded").Inc()
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "a push to the default branch: the repository is recorded for drift scans")
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
	s.drift.Remember(r.Context(), ev)
	s.metrics.events.WithLabelValues(name, action, "accepted").Inc()
	s.log.Info("event queued", "mr", ref.String(), "action", action, "user", ev.User, "delivery", ev.DeliveryID)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "queued")
}
