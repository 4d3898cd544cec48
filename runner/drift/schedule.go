package drift

import (
	"context"
	"encoding/json"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/stacks"
)

// parseSchedule reads a cron expression the way strata.yaml's
// drift.schedule is checked (stacks.ParseSchedule): five fields,
// descriptors (@daily, @every 1h) and CRON_TZ= allowed; never a panic, nor
// a schedule that never fires.
func parseSchedule(spec string) (cron.Schedule, error) { return stacks.ParseSchedule(spec, time.Now()) }

// tick is one queued scan: a repository at a scheduled time.
type tick struct {
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

// nextTick is the first scheduled time after t; zero when the schedule
// has none left. Every replica computes the same times, since the lock
// and the queue's deduplication rely on them: a cron schedule gives them
// by itself, and "@every D" is aligned on multiples of D rather than
// counted from when a replica started.
func nextTick(sched cron.Schedule, t time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return t.Truncate(every.Delay).Add(every.Delay)
	}
	return sched.Next(t)
}

// Loop queues a scan of each allowed repository at each tick of its
// schedule, until ctx ends. Every Refresh it reads the repositories and
// their schedules again. Ticks missed while no replica ran are not made
// up: the next tick scans.
func (d *Scheduler) Loop(ctx context.Context) {
	plan := map[string]*scheduled{}
	var refresh time.Time
	for {
		now := time.Now()
		if !now.Before(refresh) {
			d.refresh(ctx, plan, now)
			refresh = now.Add(d.cfg.Refresh)
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
		case <-d.wake:
			refresh = time.Time{}
		case <-timer.C:
		}
		timer.Stop()
		d.fire(ctx, plan, time.Now())
	}
}

// fire queues the scans that are due at now and moves each to its next
// tick. A schedule with no tick left is dropped, with a warning, rather
// than fired again at once: it would spin.
func (d *Scheduler) fire(ctx context.Context, plan map[string]*scheduled, now time.Time) {
	for key, e := range plan {
		if now.Before(e.next) {
			continue
		}
		d.queueScan(ctx, e)
		if e.next = nextTick(e.sched, now); e.next.IsZero() {
			d.log.Warn("drift: the schedule has no time left to fire; no more scans", "repo", key, "schedule", e.spec)
			delete(plan, key)
		}
	}
}

// refreshDrift reads the repositories and their schedules into plan, and
// the metrics from the last scans.
func (d *Scheduler) refresh(ctx context.Context, plan map[string]*scheduled, now time.Time) {
	repos, err := d.listRepos(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("drift: cannot list the repositories", "err", err)
		}
		return
	}
	seen := map[string]bool{}
	for _, repo := range repos {
		key := repo.ref().String()
		seen[key] = true
		old := plan[key]
		spec, err := d.repoSchedule(ctx, repo)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Warn("drift: cannot read drift.schedule; keeping the one in use", "repo", key, "err", err)
			if old != nil {
				old.repo = repo
				continue
			}
			spec = d.cfg.Schedule
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
			d.log.Warn("drift: bad schedule", "repo", key, "schedule", spec, "err", err)
			delete(plan, key)
			continue
		}
		next := nextTick(sched, now)
		if next.IsZero() {
			d.log.Warn("drift: the schedule never fires; no scans", "repo", key, "schedule", spec)
			delete(plan, key)
			continue
		}
		plan[key] = &scheduled{repo: repo, spec: spec, sched: sched, next: next}
		d.log.Info("drift: scans scheduled", "repo", key, "schedule", spec, "next", plan[key].next)
	}
	for key := range plan {
		if !seen[key] {
			delete(plan, key)
		}
	}
	d.loadMetrics(ctx, repos)
}

// repoSchedule is drift.schedule from strata.yaml on the repository's
// default branch, else --drift-schedule.
func (d *Scheduler) repoSchedule(ctx context.Context, repo repoRecord) (string, error) {
	sess, err := d.cfg.Workspaces.Open(ctx, repo.source(), "")
	if err != nil {
		return "", err
	}
	defer sess.Close()
	r := sess.Repo()
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
	return d.cfg.Schedule, nil
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
func (d *Scheduler) queueScan(ctx context.Context, e *scheduled) {
	tick := tick{Repo: e.repo, At: e.next.UTC(), Next: nextTick(e.sched, e.next).UTC()}
	payload, err := json.Marshal(tick)
	if err != nil {
		return
	}
	key := e.repo.ref().String()
	accepted, err := d.cfg.Queue.Put(ctx, queue.Item{
		ID:    "drift:" + key + "@" + tick.At.Format(time.RFC3339Nano),
		Group: "drift:" + key, Kind: Kind, Payload: payload,
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			d.log.Error("drift: cannot queue a scan", "repo", key, "scheduled", tick.At, "err", err)
		}
	case accepted:
		d.log.Info("drift: scan queued", "repo", key, "scheduled", tick.At)
	}
}
