package drift

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/workspace"
)

// Kind is the queue item kind of a scan: one repository at one scheduled
// time (a tick).
const Kind = "drift"

// Forge is what drift needs of a forge.
type Forge interface {
	Name() string
	CommentLimit() int
	forge.Issues
}

// Config wires a Scheduler. Forges, Locks, ScanLocks, Store, Queue,
// Workspaces, Records, Allowed and Log are required.
type Config struct {
	// Forges are the forges served, by name.
	Forges map[string]Forge
	// Locks holds the stack locks; an issue says which merge request holds
	// a drifted stack.
	Locks lock.Locker
	// ScanLocks holds the lock of a running scan. It should have a lease
	// (renewed while the scan runs), so a replica that dies mid-scan never
	// blocks later scans.
	ScanLocks  lock.Locker
	Store      store.Store
	Queue      queue.Queue
	Workspaces workspace.Opener
	Records    *records.Recorder
	// Replica names this process in drift records and lock owners.
	Replica string
	// Allowed reports whether --repo-allowlist admits a repository.
	Allowed func(forge.RepoRef) bool
	Settings
	// Registry receives the drift metrics.
	Registry prometheus.Registerer
	Log      *slog.Logger
}

// Settings are what the operator chooses about drift scans.
type Settings struct {
	// Schedule is a cron expression (--drift-schedule); strata.yaml's
	// drift.schedule on a repository's default branch overrides it. Empty:
	// only repositories whose strata.yaml sets one are scanned.
	Schedule string
	// NotifyWebhook receives a Slack-compatible message when the set of
	// drifted stacks of a repository changes.
	NotifyWebhook string
	// Refresh is how often the repositories and their schedules are read
	// again (default 5 minutes).
	Refresh time.Duration
	// Redactor masks secrets in the notify webhook's messages; nil masks
	// nothing.
	Redactor *redact.Redactor
}

// Scheduler queues and runs drift scans. Nothing in it matters across
// restarts: the store holds what does.
type Scheduler struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	// wake tells the loop a new repository was recorded.
	wake chan struct{}

	drifted  *prometheus.GaugeVec // strata_stack_drifted{repo,stack}
	lastScan prometheus.Gauge     // strata_drift_last_scan_timestamp_seconds

	mu sync.Mutex
	// repos are the repositories this process recorded, so each is
	// written once.
	repos map[string]repoRecord
	// series are the stacks with a strata_stack_drifted series, by
	// repository.
	series map[string][]string
	// newest is the newest scan end known, for the metric.
	newest time.Time
}

// New checks cfg and returns a Scheduler, its metrics registered.
func New(cfg Config) (*Scheduler, error) {
	if len(cfg.Forges) == 0 || cfg.Locks == nil || cfg.ScanLocks == nil || cfg.Store == nil || cfg.Queue == nil ||
		cfg.Workspaces == nil || cfg.Records == nil || cfg.Allowed == nil || cfg.Log == nil {
		return nil, errors.New("drift: Forges, Locks, ScanLocks, Store, Queue, Workspaces, Records, Allowed and Log are required")
	}
	d := &Scheduler{
		cfg: cfg, log: cfg.Log,
		client: &http.Client{Timeout: 10 * time.Second},
		wake:   make(chan struct{}, 1),
		repos:  map[string]repoRecord{},
		series: map[string][]string{},
		drifted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_stack_drifted",
			Help: "1 when the last drift scan found the stack drifted, else 0.",
		}, []string{"repo", "stack"}),
		lastScan: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_drift_last_scan_timestamp_seconds",
			Help: "When the last drift scan finished, as a Unix time.",
		}),
	}
	if cfg.Schedule != "" {
		if _, err := parseSchedule(cfg.Schedule); err != nil {
			return nil, fmt.Errorf("--drift-schedule: %v", err)
		}
	}
	if hook := cfg.NotifyWebhook; hook != "" {
		u, err := url.Parse(hook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("--notify-webhook must be an http(s) URL")
		}
	}
	if d.cfg.Refresh <= 0 {
		d.cfg.Refresh = 5 * time.Minute
	}
	if cfg.Registry != nil {
		for _, c := range []prometheus.Collector{d.drifted, d.lastScan} {
			if err := cfg.Registry.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
