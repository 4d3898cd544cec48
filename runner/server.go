package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/mirror"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/store"
)

// Config wires a Server. Forge, Queue, Locks, Store and DataDir are
// required.
type Config struct {
	// Forge is the forge the server serves (GitLab).
	Forge forge.Forge
	Queue queue.Queue
	Locks lock.Locker
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
	// Appliers lists who may run `strata apply` (usernames, or
	// "group:path" / "team:path" for forge groups); empty allows anyone
	// who may comment, within the apply requirements.
	Appliers []string
	// Workers is how many events are processed at once (default 2).
	Workers int
	// SweepInterval is how often locks of merged or closed merge requests
	// are looked for (default 5 minutes).
	SweepInterval time.Duration
	// ShutdownGrace is how long in-flight runs may finish after a stop
	// signal before they are interrupted (default 2 minutes).
	ShutdownGrace time.Duration
	// Replica names this server process in run records (default: host
	// name).
	Replica string
	// StackTimeout bounds one stack's run (default one hour).
	StackTimeout time.Duration
	// Environ is terraform's base environment; nil means os.Environ().
	Environ []string
	// Drift configures scheduled drift scans; see DriftConfig.
	Drift  DriftConfig
	Logger *slog.Logger
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
}

// Server is strata's webhook server and its workers.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	mirrors *mirror.Mirrors
	reg     *prometheus.Registry

	// inflight counts runs in progress, for graceful shutdown.
	inflight sync.WaitGroup
	// drift is the drift scheduler's bookkeeping (drift.go).
	drift *driftRuntime
}

// New checks cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Forge == nil || cfg.Queue == nil || cfg.Locks == nil || cfg.Store == nil || cfg.DataDir == "" {
		return nil, errors.New("runner: Forge, Queue, Locks, Store and DataDir are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.ScanLocks == nil {
		cfg.ScanLocks = cfg.Locks
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Minute
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
	s := &Server{
		cfg: cfg, log: cfg.Logger, reg: cfg.Registry,
		mirrors: &mirror.Mirrors{Dir: cfg.DataDir + "/mirrors", AllowFileRemotes: cfg.AllowFileRemotes, Logger: cfg.Logger},
	}
	m, err := newMetrics(cfg.Registry, s.queueDepth)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if err := s.checkDrift(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler serves POST /events/<forge>, GET /healthz and GET /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events/"+s.cfg.Forge.Name(), s.handleEvent)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	return mux
}

// Run processes queued events until ctx ends, then lets in-flight runs
// finish for ShutdownGrace before interrupting them. It also sweeps locks
// and schedules drift scans.
func (s *Server) Run(ctx context.Context) error {
	s.recoverInterrupted(ctx)
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, work)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.sweepLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		s.driftLoop(ctx)
	}()
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

// worker takes events off the queue until ctx ends; work is the context
// runs execute in, which outlives ctx by the shutdown grace.
func (s *Server) worker(ctx, work context.Context) {
	for {
		lease, err := s.cfg.Queue.Take(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, queue.ErrClosed) {
				s.log.Error("queue: take failed", "err", err)
				time.Sleep(time.Second)
				continue
			}
			return
		}
		s.inflight.Add(1)
		err = s.handle(work, lease.Item)
		s.settle(lease, err, work)
		s.inflight.Done()
	}
}

// settle acks a handled item, or puts it back for a retry when handling
// failed for a reason that may pass (forge down, fetch failed, shutdown).
func (s *Server) settle(lease *queue.Lease, err error, work context.Context) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err == nil {
		if aerr := s.cfg.Queue.Ack(ctx, lease); aerr != nil {
			s.log.Error("queue: ack failed", "item", lease.Item.ID, "err", aerr)
		}
		return
	}
	retry := time.Duration(1<<min(lease.Attempt, 6)) * 5 * time.Second
	if work.Err() != nil {
		retry = 0 // interrupted by shutdown: the next start takes it again
	}
	s.log.Warn("event will be retried", "item", lease.Item.ID, "attempt", lease.Attempt, "retry_in", retry.String(), "err", err)
	if rerr := s.cfg.Queue.Release(ctx, lease, retry); rerr != nil {
		s.log.Error("queue: release failed", "item", lease.Item.ID, "err", rerr)
	}
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
