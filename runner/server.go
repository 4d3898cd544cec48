package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner/drift"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/mirror"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/review"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/ui"
	"github.com/strata-iac/strata/runner/workspace"
)

// Config wires a Server. Forges, Queue, Locks, Store and DataDir are
// required.
type Config struct {
	// Forges are the forges the server serves, each at
	// POST /events/<name>.
	Forges []forge.Forge
	Queue  queue.Queue
	Locks  lock.Locker
	// ScanLocks holds the lock of a running drift scan. It should have a
	// lease (renewed while the scan runs), so a replica that dies mid-scan
	// never blocks later scans; default Locks.
	ScanLocks lock.Locker
	Store     store.Store
	// DataDir holds mirrors (DataDir/mirrors), workspaces (DataDir/work)
	// and the local state of stacks without a backend (DataDir/state).
	DataDir string
	// RepoAllowlist holds forge/owner/name globs ("gitlab/acme/**"); a
	// repository matching none is refused. Empty refuses everything.
	RepoAllowlist []string
	// AllowFileRemotes lets the server fetch file:// clone URLs (tests).
	AllowFileRemotes bool
	// AllowForks lets the server plan merge requests from forks, running
	// their code with the server's credentials.
	AllowForks bool
	// Appliers lists who may run `strata apply` (see review.Config).
	Appliers []string
	// Workers is how many events are processed at once (default 2).
	Workers int
	// BodyTimeout is how long a webhook's whole request may take to
	// arrive, body included (default DefaultBodyTimeout). GitLab and
	// GitHub give up on a delivery after 10 s anyway.
	BodyTimeout time.Duration
	// MaxBodies is how many webhook bodies are read at once (default
	// DefaultMaxBodies); more wait, until their BodyTimeout, for a turn.
	// With the forge's body size limit it bounds the memory the intake
	// takes.
	MaxBodies int
	// SweepInterval is how often locks of merged or closed merge requests
	// are looked for (default 5 minutes).
	SweepInterval time.Duration
	// ShutdownGrace is how long in-flight runs may finish after a stop
	// signal before they are interrupted (default 2 minutes).
	ShutdownGrace time.Duration
	// Replica names this server process in run records (default: host
	// name).
	Replica string
	// ReplicaLease is how long this replica's runs stay alive without a
	// heartbeat (renewed every third of it): a run not renewed for two
	// thirds of it is closed as interrupted by any replica. Default one
	// minute; replicas sharing a store must agree on it.
	ReplicaLease time.Duration
	// StackTimeout bounds one stack's run (default one hour).
	StackTimeout time.Duration
	// Environ is terraform's base environment; nil means os.Environ().
	Environ []string
	// Sandbox runs every terraform process in bubblewrap (package
	// planner/tf); nil runs them unsandboxed.
	Sandbox *tf.Sandbox
	// PlanEnv and ApplyEnv are set over Environ for plans and for applies
	// alone; Secrets are masked in every result (see planner.Options).
	PlanEnv, ApplyEnv []string
	Secrets           []string
	// Drift configures scheduled drift scans.
	Drift  drift.Settings
	Logger *slog.Logger
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Feedback configures run logs, the notes' links and the web page.
	Feedback Feedback
}

// Server is strata's webhook server and its workers: it owns the
// lifecycle; review and drift do the work.
type Server struct {
	cfg       Config
	log       *slog.Logger
	metrics   *metrics
	reg       *prometheus.Registry
	forges    map[string]forge.Forge
	reviewers map[string]*review.Reviewer
	drift     *drift.Scheduler
	records   *records.Recorder
	ui        *ui.UI
	// handlers maps a queue item's kind to what handles it.
	handlers map[string]func(ctx context.Context, payload []byte) error

	// inflight counts runs in progress, for graceful shutdown.
	inflight sync.WaitGroup
	// bodies holds a token per webhook body being read (cap MaxBodies).
	bodies chan struct{}
}

// New checks cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if len(cfg.Forges) == 0 || cfg.Queue == nil || cfg.Locks == nil || cfg.Store == nil || cfg.DataDir == "" {
		return nil, errors.New("runner: Forges, Queue, Locks, Store and DataDir are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.ScanLocks == nil {
		cfg.ScanLocks = cfg.Locks
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxBodies <= 0 {
		cfg.MaxBodies = DefaultMaxBodies
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Minute
	}
	if cfg.ReplicaLease <= 0 {
		cfg.ReplicaLease = time.Minute
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 2 * time.Minute
	}
	if cfg.Replica == "" {
		cfg.Replica, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry, forges: map[string]forge.Forge{}, reviewers: map[string]*review.Reviewer{},
		bodies: make(chan struct{}, cfg.MaxBodies)}
	m, err := newMetrics(cfg.Registry, s.queueDepth, s.deadLetters, func() float64 { return float64(len(s.bodies)) })
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if err := s.newUI(); err != nil {
		return nil, err
	}
	s.records = &records.Recorder{Store: cfg.Store, Replica: cfg.Replica, Lease: cfg.ReplicaLease, Log: cfg.Logger, Ended: m.runEnded, Redactor: cfg.Feedback.Redactor}
	ws := &workspace.Mirrors{
		Mirrors: &mirror.Mirrors{Dir: cfg.DataDir + "/mirrors", AllowFileRemotes: cfg.AllowFileRemotes, Logger: cfg.Logger},
		Cloners: map[string]forge.Cloner{}, DataDir: cfg.DataDir, StackTimeout: cfg.StackTimeout, Environ: cfg.Environ,
		Sandbox: cfg.Sandbox, PlanEnv: cfg.PlanEnv, ApplyEnv: cfg.ApplyEnv, Secrets: cfg.Secrets,
	}
	driftForges := map[string]drift.Forge{}
	for _, f := range cfg.Forges {
		name := f.Name()
		if _, dup := s.forges[name]; dup {
			return nil, fmt.Errorf("runner: forge %s given twice", name)
		}
		s.forges[name] = f
		ws.Cloners[name] = f
		driftForges[name] = f
		rv, err := review.New(review.Config{
			Forge: f, Locks: cfg.Locks, Store: cfg.Store, Workspaces: ws, Records: s.records,
			AllowForks: cfg.AllowForks, Appliers: cfg.Appliers, Log: cfg.Logger, PublicURL: cfg.Feedback.PublicURL,
		})
		if err != nil {
			return nil, err
		}
		s.reviewers[name] = rv
	}
	s.drift, err = drift.New(drift.Config{
		Forges: driftForges, Locks: cfg.Locks, ScanLocks: cfg.ScanLocks, Store: cfg.Store, Queue: cfg.Queue,
		Workspaces: ws, Records: s.records, Replica: cfg.Replica, Allowed: s.allowed,
		Settings: cfg.Drift, Registry: cfg.Registry, Log: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.handlers = map[string]func(context.Context, []byte) error{
		kindEvent:  s.handleEvent,
		kindSweep:  s.handleSweep,
		drift.Kind: s.drift.Scan,
	}
	return s, nil
}

// allowed reports whether --repo-allowlist admits the repository.
func (s *Server) allowed(repo forge.RepoRef) bool {
	key := repo.String()
	for _, g := range s.cfg.RepoAllowlist {
		if ok, _ := doublestar.Match(strings.TrimSpace(g), key); ok {
			return true
		}
	}
	return false
}

// Handler serves POST /events/<forge> for every forge, GET /healthz,
// GET /metrics and, when configured, the web page under /ui.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for name, f := range s.forges {
		mux.HandleFunc("POST /events/"+name, func(w http.ResponseWriter, r *http.Request) { s.intake(w, r, f) })
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.mountUI(mux)
	return mux
}

// HTTPServer is the http.Server to serve Handler with: a request's
// headers must arrive within 10 s and the whole request within 10 s plus
// BodyTimeout (the webhook endpoint holds its body to BodyTimeout from the
// request's start), so slow senders cannot hold connections; idle
// connections are closed after two minutes.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       headerTimeout + s.cfg.BodyTimeout,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Run processes queued items until ctx ends, then lets in-flight runs
// finish for ShutdownGrace before interrupting them. It also sweeps locks
// and schedules drift scans. At start it clears what a crash left behind:
// the runs this replica left unfinished and their workspaces.
func (s *Server) Run(ctx context.Context) error {
	s.recoverInterrupted(ctx)
	if removed, err := planner.SweepWorkspaces(s.cfg.DataDir); err != nil {
		s.log.Error("cannot sweep the workspaces left by an earlier run", "err", err)
	} else if len(removed) > 0 {
		s.log.Info("removed the workspaces an earlier run left", "count", len(removed))
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Go(func() { s.worker(ctx, work) })
	}
	wg.Go(func() { s.sweepLoop(ctx) })
	wg.Go(func() { s.abandonLoop(ctx) })
	wg.Go(func() { s.drift.Loop(ctx) })
	<-ctx.Done()
	s.log.Info("stopping: waiting for runs in flight", "grace", s.cfg.ShutdownGrace.String())
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownGrace):
		s.log.Warn("stopping: grace period over, interrupting runs in flight")
		stopWork()
	}
	wg.Wait()
	return nil
}

// recoverInterrupted closes the runs this replica left in progress when it
// died: their records say "interrupted" and their commit statuses fail with
// the reason, instead of staying pending forever. The queue hands their
// events out again, so the work itself is redone, except applies: the
// reviewer closes those (an apply its state records as completed stays
// completed), and the event delivered again finds out what an interrupted
// one left rather than applying again.
func (s *Server) recoverInterrupted(ctx context.Context) {
	var others []*records.Record
	for _, rec := range s.records.Interrupted(ctx) {
		if rv, ok := s.reviewers[rec.Forge]; ok && rec.MR != 0 && rec.Operation == planner.OpApply {
			rv.RecoverApply(ctx, rec)
			continue
		}
		s.log.Warn("run interrupted by a restart", "run", rec.ID, "operation", string(rec.Operation), "repo", rec.Repo, "mr", rec.MR)
		s.records.Finish(ctx, rec, records.StateInterrupted, nil, nil)
		others = append(others, rec)
	}
	s.failStatuses(ctx, others, "interrupted: the strata server restarted; the run will be retried")
}

// abandonLoop closes, every ReplicaLease, the runs whose replicas stopped
// renewing them (another replica died), so that no run stays "running"
// forever; the worker closes those of an item it takes again sooner.
func (s *Server) abandonLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ReplicaLease)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.failStatuses(ctx, s.records.Abandon(ctx, nil), "interrupted: the strata replica running it stopped")
	}
}

// failStatuses fails the commit statuses that interrupted runs left
// pending.
func (s *Server) failStatuses(ctx context.Context, recs []*records.Record, why string) {
	for _, rec := range recs {
		f, ok := s.forges[rec.Forge]
		if !ok || rec.Status == "" || rec.Commit == "" {
			continue
		}
		err := f.SetStatus(ctx, rec.Repo, rec.Commit, forge.Status{Name: rec.Status, State: forge.StatusFailed, Description: why})
		if err != nil {
			s.log.Error("cannot set commit status", "repo", rec.Repo, "commit", rec.Commit, "status", rec.Status, "err", err)
		}
	}
}

func (s *Server) deadLetters() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.cfg.Queue.DeadLen(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}

func (s *Server) queueDepth() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.cfg.Queue.Len(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}
