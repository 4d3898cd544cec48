package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/stacks"
)

// kindDrift is a queued drift scan of one repository at one scheduled
// time (a driftTick).
const kindDrift = "drift"

// DriftConfig schedules drift scans of every allowed repository.
type DriftConfig struct {
	// Schedule is a cron expression (--drift-schedule); strata.yaml's
	// drift.schedule on a repository's default branch overrides it. Empty:
	// only repositories whose strata.yaml sets one are scanned.
	Schedule string
	// NotifyWebhook receives a Slack-compatible message when the set of
	// drifted stacks of a repository changes.
	NotifyWebhook string
	// Refresh is how often each replica reads again which repositories
	// strata knows and their drift.schedule (default 5 minutes).
	Refresh time.Duration
}

// driftRuntime is a Server's in-memory drift bookkeeping. Nothing in it
// matters across restarts: the store holds what does.
type driftRuntime struct {
	// schedule is --drift-schedule parsed; nil when not set.
	schedule cron.Schedule
	client   *http.Client
	// wake tells the scheduler a new repository was recorded.
	wake chan struct{}

	mu sync.Mutex
	// repos are the repositories this process recorded, so each is
	// written once.
	repos map[string]repoRecord
	// series are the stacks with a strata_stack_drifted series, by
	// repository.
	series map[string][]string
	// lastScan is the newest scan end known, for the metric.
	lastScan time.Time
}

// parseSchedule reads a cron expression the way strata.yaml's
// drift.schedule is checked: five fields, descriptors (@daily, @every 1h)
// and CRON_TZ= allowed.
func parseSchedule(spec string) (cron.Schedule, error) { return cron.ParseStandard(spec) }

// checkDrift checks the drift configuration and sets up its runtime.
func (s *Server) checkDrift() error {
	d := &driftRuntime{
		client: &http.Client{Timeout: 10 * time.Second},
		wake:   make(chan struct{}, 1),
		repos:  map[string]repoRecord{},
		series: map[string][]string{},
	}
	if s.cfg.Drift.Schedule != "" {
		sched, err := parseSchedule(s.cfg.Drift.Schedule)
		if err != nil {
			return fmt.Errorf("--drift-schedule %q is not a cron expression: %v", s.cfg.Drift.Schedule, err)
		}
		d.schedule = sched
	}
	if hook := s.cfg.Drift.NotifyWebhook; hook != "" {
		u, err := url.Parse(hook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("--notify-webhook must be an http(s) URL")
		}
	}
	if s.cfg.Drift.Refresh <= 0 {
		s.cfg.Drift.Refresh = 5 * time.Minute
	}
	s.drift = d
	return nil
}

// driftTick is one queued scan: a repository at a scheduled time.
type driftTick struct {
	Repo repoRecord `json:"repo"`
	// At is the scheduled time; Next the following one. A scan not
	// started by Next is skipped: the next one covers it.
	At   time.Time `json:"at"`
	Next time.Time `json:"next"`
}

// scheduled is one repository's place in the scheduler.
type scheduled struct {
	repo  repoRecord
	spec  string
	sched cron.Schedule
	next  time.Time
}

// nextTick is the first scheduled time after t. Every replica computes the
// same times, since the lock and the queue's deduplication rely on them:
// a cron schedule gives them by itself, and "@every D" is aligned on
// multiples of D rather than counted from when a replica started.
func nextTick(sched cron.Schedule, t time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return t.Truncate(every.Delay).Add(every.Delay)
	}
	return sched.Next(t)
}

// driftLoop queues a scan of each allowed repository at each tick of its
// schedule, until ctx ends. Every Refresh it reads the repositories and
// their schedules again. Ticks missed while no replica ran are not made
// up: the next tick scans.
func (s *Server) driftLoop(ctx context.Context) {
	plan := map[string]*scheduled{}
	var refresh time.Time
	for {
		now := time.Now()
		if !now.Before(refresh) {
			s.refreshDrift(ctx, plan, now)
			refresh = now.Add(s.cfg.Drift.Refresh)
		}
		wake := refresh
		for _, e := range plan {
			if e.next.Before(wake) {
				wake = e.next
			}
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.drift.wake:
			refresh = time.Time{}
		case <-timer.C:
		}
		timer.Stop()
		now = time.Now()
		for _, e := range plan {
			if !now.Before(e.next) {
				s.queueScan(ctx, e)
				e.next = nextTick(e.sched, now)
			}
		}
	}
}

// refreshDrift reads the repositories and their schedules into plan, and
// the metrics from the last scans.
func (s *Server) refreshDrift(ctx context.Context, plan map[string]*scheduled, now time.Time) {
	repos, err := s.listRepos(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("drift: cannot list the repositories", "err", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, repo := range repos {
		key := repo.key()
		seen[key] = true
		old := plan[key]
		spec, err := s.repoSchedule(ctx, repo)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("drift: cannot read drift.schedule; keeping the one in use", "repo", key, "err", err)
			if old != nil {
				old.repo = repo
				continue
			}
			spec = s.cfg.Drift.Schedule
		}
		if spec == "" {
			delete(plan, key)
			continue
		}
		if old != nil && old.spec == spec {
			old.repo = repo
			continue
		}
		sched, err := parseSchedule(spec)
		if err != nil {
			s.log.Warn("drift: bad schedule", "repo", key, "schedule", spec, "err", err)
			delete(plan, key)
			continue
		}
		plan[key] = &scheduled{repo: repo, spec: spec, sched: sched, next: nextTick(sched, now)}
		s.log.Info("drift: scans scheduled", "repo", key, "schedule", spec, "next", plan[key].next)
	}
	for key := range plan {
		if !seen[key] {
			delete(plan, key)
		}
	}
	s.loadDriftMetrics(ctx, repos)
}

// repoSchedule is drift.schedule from strata.yaml on the repository's
// default branch, else --drift-schedule.
func (s *Server) repoSchedule(ctx context.Context, repo repoRecord) (string, error) {
	url, auth, err := s.cfg.Forge.CloneAuth(repo.CloneURL)
	if err != nil {
		return "", err
	}
	m, err := s.mirrors.Fetch(ctx, repo.key(), url, auth)
	if err != nil {
		return "", err
	}
	r, err := stacks.OpenRepo(m.Path())
	if err != nil {
		return "", err
	}
	defer r.Close()
	c, err := r.Resolve(defaultRef(r, repo))
	if err != nil {
		return "", err
	}
	cfg, err := r.ConfigAt(c)
	if err != nil {
		return "", err
	}
	if cfg.Drift.Schedule != "" {
		return cfg.Drift.Schedule, nil
	}
	return s.cfg.Drift.Schedule, nil
}

// defaultRef is the default branch of a mirror: as the forge reported it,
// else as the mirror has it.
func defaultRef(r *stacks.Repo, repo repoRecord) string {
	if repo.DefaultBranch != "" {
		return "refs/heads/" + repo.DefaultBranch
	}
	return r.DefaultBranch()
}

// queueScan puts the scan of e's repository at e.next on the queue. Its ID
// names the repository and the tick, so replicas sharing a queue put it
// there once.
func (s *Server) queueScan(ctx context.Context, e *scheduled) {
	tick := driftTick{Repo: e.repo, At: e.next.UTC(), Next: nextTick(e.sched, e.next).UTC()}
	payload, err := json.Marshal(tick)
	if err != nil {
		return
	}
	key := e.repo.key()
	accepted, err := s.cfg.Queue.Put(ctx, queue.Item{
		ID:    "drift:" + key + "@" + tick.At.Format(time.RFC3339Nano),
		Group: "drift:" + key, Kind: kindDrift, Payload: payload,
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.log.Error("drift: cannot queue a scan", "repo", key, "scheduled", tick.At, "err", err)
		}
	case accepted:
		s.log.Info("drift: scan queued", "repo", key, "scheduled", tick.At)
	}
}
