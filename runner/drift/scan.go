package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// scanState is what the last scan of a repository found, kept at
// records.DriftStateKey. The next scan compares with it (issues
// to close, whether to notify) and refuses a tick it already covers.
type scanState struct {
	// Tick is the scheduled time the scan ran for.
	Tick      time.Time `json:"tick"`
	Run       string    `json:"run"`
	Replica   string    `json:"replica"`
	Ref       string    `json:"ref"`
	Commit    string    `json:"commit"`
	ScannedAt time.Time `json:"scanned_at"`
	// Stacks are every stack scanned; Drifted those that drifted, and
	// Failed those that could not be checked. A stack that fails keeps
	// the verdict of the scan before.
	Stacks  []string `json:"stacks"`
	Drifted []string `json:"drifted"`
	Failed  []string `json:"failed,omitempty"`
	// Issues maps each stack with an open drift issue to its number.
	Issues map[string]int64 `json:"issues,omitempty"`
	// Error says why the scan could not plan at all.
	Error string `json:"error,omitempty"`
}

// driftLockKey is the Locker key a scan of repo holds: one scan of a
// repository at a time, across replicas.
func driftLockKey(repo repoRecord) string { return path.Join("drift", repo.Forge, repo.Repo) }

func (d *Scheduler) loadState(ctx context.Context, repo repoRecord) (scanState, error) {
	var rec scanState
	data, err := d.cfg.Store.Get(ctx, records.DriftStateKey(repo.ref()))
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("read the drift state of %s: %w", repo.ref().String(), err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("read the drift state of %s: %w", repo.ref().String(), err)
	}
	return rec, nil
}

func (d *Scheduler) saveState(ctx context.Context, repo repoRecord, rec scanState) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if _, err := d.cfg.Store.Put(ctx, records.DriftStateKey(repo.ref()), data); err != nil {
		return fmt.Errorf("save the drift state of %s: %w", repo.ref().String(), err)
	}
	return nil
}

// Scan runs one queued scan (a queue item of kind Kind). Of the replicas
// that queued the same tick, the one that takes the repository's drift
// lock first scans; the others find the lock held, or the tick already
// recorded as scanned, and drop theirs. An unreadable payload is a
// permanent error.
func (d *Scheduler) Scan(ctx context.Context, payload []byte) error {
	var tick tick
	if err := json.Unmarshal(payload, &tick); err != nil {
		return fault.Permanent(fmt.Errorf("drift: unreadable scan: %w", err))
	}
	repo := tick.Repo
	log := d.log.With("repo", repo.ref().String(), "scheduled", tick.At)
	if _, ok := d.cfg.Forges[repo.Forge]; !ok {
		return fault.Permanent(fmt.Errorf("drift: scan of %s: strata serves no forge %q", repo.ref(), repo.Forge))
	}
	if !d.cfg.Allowed(repo.ref()) {
		log.Warn("drift: scan dropped: the repository is no longer in --repo-allowlist")
		return nil
	}
	if !tick.Next.IsZero() && !time.Now().Before(tick.Next) {
		log.Info("drift: scan skipped: the next one is due already")
		return nil
	}
	key := driftLockKey(repo)
	owner := lock.Owner{ID: "drift@" + d.cfg.Replica, Head: tick.At.Format(time.RFC3339), User: "schedule"}
	held, err := d.cfg.ScanLocks.Acquire(ctx, key, owner)
	var he *lock.HeldError
	if errors.As(err, &he) {
		log.Info("drift: scan skipped: another scan of the repository is running", "holder", he.Lock.Owner, "since", he.Lock.AcquiredAt, "tick", he.Lock.Head)
		return nil
	}
	if err != nil {
		return err
	}
	stop := d.keepLock(ctx, key, owner, held)
	defer func() {
		stop()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := d.cfg.ScanLocks.Release(rctx, key, owner.ID); err != nil {
			log.Error("drift: cannot release the drift lock", "key", key, "err", err)
		}
	}()
	prev, err := d.loadState(ctx, repo)
	if err != nil {
		return err
	}
	if !prev.Tick.Before(tick.At) {
		log.Info("drift: scan skipped: this tick was scanned already", "by", prev.Replica, "run", prev.Run)
		return nil
	}
	return d.scanRepo(ctx, tick, prev)
}

// keepLock renews a lock with a lease while a scan runs, at a third of the
// lease; the returned function stops it.
func (d *Scheduler) keepLock(ctx context.Context, key string, owner lock.Owner, held lock.Lock) func() {
	lease := time.Until(held.ExpiresAt)
	if held.ExpiresAt.IsZero() || lease <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(max(lease/3, time.Second))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := d.cfg.ScanLocks.Acquire(ctx, key, owner); err != nil {
					d.log.Warn("drift: cannot renew the drift lock", "key", key, "err", err)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// scanRepo plans every stack of the repository's default branch, stores
// the plans and the report, opens, updates and closes issues, tells the
// notify webhook, and records the scan.
func (d *Scheduler) scanRepo(ctx context.Context, tick tick, prev scanState) error {
	repo := tick.Repo
	rec := d.cfg.Records.Start(ctx, records.Run{Operation: planner.OpDrift, Repo: repo.ref(), Trigger: records.TriggerSchedule})
	rec.Scheduled = tick.At
	next := scanState{Tick: tick.At, Run: rec.ID, Replica: d.cfg.Replica, Issues: prev.Issues}
	ctx = planner.WithLiveLog(ctx, d.cfg.Records.RunLog(ctx, rec))
	sum, ref, err := d.plan(ctx, repo)
	if err != nil {
		state := records.StateFailed
		if ctx.Err() != nil {
			state = records.StateInterrupted
		}
		d.cfg.Records.Finish(ctx, rec, state, nil, err)
		if !fault.IsPermanent(err) {
			return err
		}
		// The default branch itself is broken (strata.yaml, the branch
		// gone): retrying cannot help. Keep the last verdicts.
		next.Ref, next.Commit, next.ScannedAt, next.Error = prev.Ref, prev.Commit, time.Now().UTC(), err.Error()
		next.Stacks, next.Drifted, next.Failed = prev.Stacks, prev.Drifted, prev.Failed
		return d.saveState(ctx, repo, next)
	}
	rec.Commit, rec.Ref = sum.Commit, ref
	report := planner.NewDriftReport(ref, sum)
	rec.Artifacts = records.DriftScanPrefix(repo.ref(), rec.ID)
	if err := d.store(ctx, rec.Artifacts, sum, report); err != nil {
		d.cfg.Records.Finish(ctx, rec, records.StateFailed, &sum, err)
		return err
	}
	next.Ref, next.Commit = ref, sum.Commit
	next.Stacks, next.Drifted, next.Failed = verdicts(report, prev)
	next.Issues = d.reconcileIssues(ctx, repo, ref, sum, prev)
	next.ScannedAt = time.Now().UTC()
	d.notify(ctx, repo, prev, next)
	if err := d.saveState(ctx, repo, next); err != nil {
		d.cfg.Records.Finish(ctx, rec, records.StateFailed, &sum, err)
		return err
	}
	d.setMetrics(repo.ref().String(), next)
	state := records.StateCompleted
	if len(next.Failed) > 0 {
		state = records.StateFailed
	}
	d.cfg.Records.Finish(ctx, rec, state, &sum, nil)
	return nil
}

// plan fetches the repository and plans every stack at the head of its
// default branch. Errors the repository's owners must fix are permanent.
func (d *Scheduler) plan(ctx context.Context, repo repoRecord) (planner.Summary, string, error) {
	sess, err := d.cfg.Workspaces.Open(ctx, repo.source(), "")
	if err != nil {
		return planner.Summary{}, "", err
	}
	defer sess.Close()
	ref := defaultRef(sess.Repo(), repo)
	t, err := sess.Select(ctx, planner.Selection{Head: ref, All: true})
	if err != nil {
		return planner.Summary{}, "", err
	}
	sum, err := sess.Drift(ctx, t, planner.DriftOptions{})
	return sum, strings.TrimPrefix(ref, "refs/heads/"), err
}

// store writes a scan in the --out layout of strata drift under prefix:
// the plans, summary.json, comment.md, then drift.json.
func (d *Scheduler) store(ctx context.Context, prefix string, sum planner.Summary, report planner.DriftReport) error {
	out := store.Prefixed(d.cfg.Store, prefix)
	body := strings.Join(comment.Render(sum, comment.Options{Marker: comment.DefaultMarker}), "\n\n")
	if err := planner.WriteOut(ctx, out, sum, body); err != nil {
		return err
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	_, err = out.Put(ctx, planner.DriftFile, append(data, '\n'))
	return err
}

// verdicts lists the stacks scanned, those drifted and those that failed.
// A stack that failed and had drifted before counts as drifted still: its
// issue stays open and no message says it is back in line.
func verdicts(report planner.DriftReport, prev scanState) (all, drifted, failed []string) {
	all, drifted, failed = []string{}, []string{}, []string{}
	for _, st := range report.Stacks {
		all = append(all, st.Name())
		switch {
		case st.Error != "":
			failed = append(failed, st.Name())
			if slices.Contains(prev.Drifted, st.Name()) {
				drifted = append(drifted, st.Name())
			}
		case st.Drifted:
			drifted = append(drifted, st.Name())
		}
	}
	return all, drifted, failed
}

// setMetrics sets strata_stack_drifted for the stacks of one scan,
// drops the series of stacks gone since, and moves the last-scan time.
func (d *Scheduler) setMetrics(repoKey string, rec scanState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, old := range d.series[repoKey] {
		if !slices.Contains(rec.Stacks, old) {
			d.drifted.DeleteLabelValues(repoKey, old)
		}
	}
	for _, st := range rec.Stacks {
		v := 0.0
		if slices.Contains(rec.Drifted, st) {
			v = 1
		}
		d.drifted.WithLabelValues(repoKey, st).Set(v)
	}
	d.series[repoKey] = slices.Clone(rec.Stacks)
	if rec.ScannedAt.After(d.newest) {
		d.newest = rec.ScannedAt
		d.lastScan.Set(float64(rec.ScannedAt.UnixNano()) / 1e9)
	}
}

// loadMetrics sets the drift metrics from the last scan of each
// repository, whichever replica made it, so every replica reports the
// same.
func (d *Scheduler) loadMetrics(ctx context.Context, repos []repoRecord) {
	for _, repo := range repos {
		rec, err := d.loadState(ctx, repo)
		if err != nil {
			d.log.Warn("drift: cannot read the last scan", "repo", repo.ref().String(), "err", err)
			continue
		}
		if rec.Run != "" {
			d.setMetrics(repo.ref().String(), rec)
		}
	}
}
