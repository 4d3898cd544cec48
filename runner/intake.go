package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
)

// Defaults of the intake limits.
const (
	DefaultBodyTimeout = 30 * time.Second
	DefaultMaxBodies   = 2
	headerTimeout      = 10 * time.Second
)

// errBusy is why a body was not read: every slot stayed taken until the
// request's deadline.
var errBusy = errors.New("too many webhook bodies are being read at once")

// intake is a forge's webhook endpoint. The forge adapter checks the
// secret in constant time before the body is read; a body is read only
// within BodyTimeout of the request's start, and only MaxBodies at once,
// so slow or large deliveries cannot pile up. Everything that can be
// checked is checked before the event is queued, so a value that can
// never be handled gets a 4xx at once. The event is on the durable queue
// before the 202 goes out, so a crash after the answer loses nothing, and
// a redelivery is recognised by its delivery ID.
func (s *Server) intake(w http.ResponseWriter, r *http.Request, f forge.Forge) {
	name := f.Name()
	deadline := time.Now().Add(s.cfg.BodyTimeout)
	_ = http.NewResponseController(w).SetReadDeadline(deadline)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	gate := &gatedBody{ReadCloser: r.Body, ctx: ctx, slots: s.bodies, waiting: s.metrics.bodiesWaiting}
	r.Body = gate
	ev, err := f.ParseWebhook(r)
	gate.release()
	if err == nil {
		err = ev.Validate()
	}
	if err == nil {
		if _, _, cerr := f.CloneAuth(ev.CloneURL); cerr != nil {
			err = &forge.WebhookError{Kind: forge.ErrBadPayload, Forge: name, Reason: "clone URL: " + cerr.Error()}
		}
	}
	if err != nil {
		s.refuse(w, r, name, gate, err)
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

// refuse answers a delivery that yields no event. The connection is
// closed after the answer: the body may be unread, and reading it first
// (as net/http does to keep a connection) would make a wrong secret wait
// for whatever body the sender trickles.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, name string, gate *gatedBody, err error) {
	code := forge.WebhookStatus(err)
	result := map[int]string{
		http.StatusUnauthorized: "unauthorized", http.StatusBadRequest: "bad_request",
		http.StatusRequestEntityTooLarge: "bad_request", http.StatusOK: "ignored",
	}[code]
	msg := err.Error()
	switch {
	case errors.Is(gate.err, errBusy):
		code, result, msg = http.StatusServiceUnavailable, "busy", fmt.Sprintf("%v; the forge will retry", errBusy)
	case gate.timedOut():
		code, result, msg = http.StatusRequestTimeout, "timeout", fmt.Sprintf("the body did not arrive within %s", s.cfg.BodyTimeout)
	}
	if result == "" {
		result = "error"
	}
	s.metrics.events.WithLabelValues(name, "", result).Inc()
	if code != http.StatusOK {
		s.log.Warn("webhook refused", "forge", name, "status", code, "err", msg, "remote", r.RemoteAddr)
	}
	w.Header().Set("Connection", "close")
	http.Error(w, msg, code)
}

// gatedBody is a request body that takes one of the server's body slots
// before its first read, waiting at most until ctx ends, and counts the
// requests waiting for one.
type gatedBody struct {
	io.ReadCloser
	ctx     context.Context
	slots   chan struct{}
	waiting interface{ Add(float64) }
	held    bool
	// err is why the body could not be read: errBusy, or the read error.
	err error
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if !g.held {
		g.waiting.Add(1)
		select {
		case g.slots <- struct{}{}:
			g.held = true
		case <-g.ctx.Done():
			g.err = errBusy
		}
		g.waiting.Add(-1)
		if g.err != nil {
			return 0, g.err
		}
	}
	n, err := g.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		g.err = err
	}
	return n, err
}

// release gives the slot back, once the body is read (or given up).
func (g *gatedBody) release() {
	if g.held {
		<-g.slots
		g.held = false
	}
}

// timedOut reports whether reading the body failed on the request's
// deadline.
func (g *gatedBody) timedOut() bool {
	var te interface{ Timeout() bool }
	return g.err != nil && (errors.As(g.err, &te) && te.Timeout() || g.ctx.Err() != nil && !errors.Is(g.err, errBusy))
}
