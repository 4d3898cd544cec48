package runner

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

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/store"
)

// driftRecord is what the last scan of a repository found, kept at
// drift/<forge>/<repo>/state.json. The next scan compares with it (issues
// to close, whether to notify) and refuses a tick it already covers.
type driftRecord struct {
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

func driftPrefix(repo repoRecord) string { return path.Join("drift", repo.Forge, repo.Repo) }

// driftLockKey is the Locker key a scan of repo holds: one scan of a
// repository at a time, across replicas.
func driftLockKey(repo repoRecord) string { return path.Join("drift", repo.Forge, repo.Repo) }

func (s *Server) loadDrift(ctx context.Context, repo repoRecord) (driftRecord, error) {
	var rec driftRecord
	data, err := s.cfg.Store.Get(ctx, driftPrefix(repo)+"/state.json")
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return rec, fmt.Errorf("read the drift state of %s: %w", repo.key(), err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("read the drift state of %s: %w", repo.key(), err)
	}
	return rec, nil
}

func (s *Server) saveDrift(ctx context.Context, repo repoRecord, rec driftRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Put(ctx, driftPrefix(repo)+"/state.json", data); err != nil {
		return fmt.Errorf("save the drift state of %s: %w", repo.key(), err)
	}
	return nil
}

// driftScan runs one queued scan. Of the replicas that queued the same
// tick, the one that takes the repository's drift lock first scans; the
// others find the lock held, or the tick already recorded as scanned, and
// drop theirs.
func (s *Server) driftScan(ctx context.Context, payload []byte) error {
	var tick driftTick
	if err := json.Unmarshal(payload, &tick); err != nil {
		s.log.Error("drift: dropping an unreadable scan", "err", err)
		return nil
	}
	repo := tick.Repo
	log := s.log.With("repo", repo.key(), "scheduled", tick.At)
	if !s.allowed(repo.key()) {
		log.Warn("drift: scan dropped: the repository is no longer in --repo-allowlist")
		return nil
	}
	if !tick.Next.IsZero() && !time.Now().Before(tick.Next) {
		log.Info("drift: scan skipped: the next one is due already")
		return nil
	}
	key := driftLockKey(repo)
	owner := lock.Owner{ID: "drift@" + s.cfg.Replica, Head: tick.At.Format(time.RFC3339), User: "schedule"}
	held, err := s.cfg.ScanLocks.Acquire(ctx, key, owner)
	var he *lock.HeldError
	if errors.As(err, &he) {
		log.Info("drift: scan skipped: another scan of the repository is running", "holder", he.Lock.Owner, "since", he.Lock.AcquiredAt, "tick", he.Lock.Head)
		return nil
	}
	if err != nil {
		return err
	}
	stop := s.keepLock(ctx, key, owner, held)
	defer func() {
		stop()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.cfg.ScanLocks.Release(rctx, key, owner.ID); err != nil {
			log.Error("drift: cannot release the drift lock", "key", key, "err", err)
		}
	}()
	prev, err := s.loadDrift(ctx, repo)
	if err != nil {
		return err
	}
	if !prev.Tick.Before(tick.At) {
		log.Info("drift: scan skipped: this tick was scanned already", "by", prev.Replica, "run", prev.Run)
		return nil
	}
	return s.scanRepo(ctx, tick, prev)
}

// keepLock renews a lock with a lease while a scan runs, at a third of the
// lease; the returned function stops it.
func (s *Server) keepLock(ctx context.Context, key string, owner lock.Owner, held lock.Lock) func() {
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
				if _, err := s.cfg.ScanLocks.Acquire(ctx, key, owner); err != nil {
					s.log.Warn("drift: cannot renew the drift lock", "key", key, "err", err)
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
func (s *Server) scanRepo(ctx context.Context, tick driftTick, prev driftRecord) error {
	repo := tick.Repo
	rec := s.startRun(ctx, "drift", mrRef{Forge: repo.Forge, Repo: repo.Repo}, "", "", "schedule", "")
	rec.Scheduled = tick.At
	next := driftRecord{Tick: tick.At, Run: rec.ID, Replica: s.cfg.Replica, Issues: prev.Issues}
	sum, ref, err := s.driftPlan(ctx, repo)
	if err != nil {
		state := runFailed
		if ctx.Err() != nil {
			state = runInterrupted
		}
		s.finishRun(ctx, rec, state, nil, err)
		var ue *userError
		if !errors.As(err, &ue) {
			return err
		}
		// The default branch itself is broken (strata.yaml, the branch
		// gone): retrying cannot help. Keep the last verdicts.
		next.Ref, next.Commit, next.ScannedAt, next.Error = prev.Ref, prev.Commit, time.Now().UTC(), err.Error()
		next.Stacks, next.Drifted, next.Failed = prev.Stacks, prev.Drifted, prev.Failed
		return s.saveDrift(ctx, repo, next)
	}
	rec.Commit, rec.Ref = sum.Commit, ref
	report := planner.NewDriftReport(ref, sum)
	rec.Artifacts = path.Join(driftPrefix(repo), "scans", rec.ID)
	if err := s.storeDrift(ctx, rec.Artifacts, sum, report); err != nil {
		s.finishRun(ctx, rec, runFailed, &sum, err)
		return err
	}
	next.Ref, next.Commit = ref, sum.Commit
	next.Stacks, next.Drifted, next.Failed = verdicts(report, prev)
	next.Issues = s.reconcileIssues(ctx, repo, ref, sum, prev)
	next.ScannedAt = time.Now().UTC()
	s.notifyDrift(ctx, repo, prev, next)
	if err := s.saveDrift(ctx, repo, next); err != nil {
		s.finishRun(ctx, rec, runFailed, &sum, err)
		return err
	}
	s.setDriftMetrics(repo.key(), next)
	state := runCompleted
	if len(next.Failed) > 0 {
		state = runFailed
	}
	s.finishRun(ctx, rec, state, &sum, nil)
	return nil
}

// driftPlan fetches the repository and plans every stack at the head of
// its default branch. Errors the repository's owners must fix are
// *userError.
func (s *Server) driftPlan(ctx context.Context, repo repoRecord) (planner.Summary, string, error) {
	url, auth, err := s.cfg.Forge.CloneAuth(repo.CloneURL)
	if err != nil {
		return planner.Summary{}, "", &userError{err}
	}
	m, err := s.mirrors.Fetch(ctx, repo.key(), url, auth)
	if err != nil {
		return planner.Summary{}, "", err
	}
	sess, err := planner.OpenSession(planner.SessionOptions{
		RepoDir: m.Path(), RepoName: repo.key(), DataDir: s.cfg.DataDir,
		StackTimeout: s.cfg.StackTimeout, Environ: s.cfg.Environ,
	})
	if err != nil {
		return planner.Summary{}, "", err
	}
	defer sess.Close()
	ref := defaultRef(sess.Repo(), repo)
	t, err := sess.Select(ctx, planner.Selection{Head: ref, All: true})
	if err != nil {
		return planner.Summary{}, "", &userError{err}
	}
	sum, err := sess.Drift(ctx, t, planner.DriftOptions{})
	return sum, strings.TrimPrefix(ref, "refs/heads/"), err
}

// storeDrift writes a scan in the --out layout of strata drift under
// prefix: the plans, summary.json, comment.md, then drift.json.
func (s *Server) storeDrift(ctx context.Context, prefix string, sum planner.Summary, report planner.DriftReport) error {
	out := prefixed{s.cfg.Store, prefix}
	comment := strings.Join(comment.Render(sum, comment.Options{Marker: comment.DefaultMarker}), "\n\n")
	if err := planner.WriteOut(ctx, out, sum, comment); err != nil {
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
func verdicts(report planner.DriftReport, prev driftRecord) (all, drifted, failed []string) {
	all, drifted, failed = []string{}, []string{}, []string{}
	for _, st := range report.Stacks {
		all = append(all, st.Dir)
		switch {
		case st.Error != "":
			failed = append(failed, st.Dir)
			if slices.Contains(prev.Drifted, st.Dir) {
				drifted = append(drifted, st.Dir)
			}
		case st.Drifted:
			drifted = append(drifted, st.Dir)
		}
	}
	return all, drifted, failed
}

// setDriftMetrics sets strata_stack_drifted for the stacks of one scan,
// drops the series of stacks gone since, and moves the last-scan time.
func (s *Server) setDriftMetrics(repoKey string, rec driftRecord) {
	d := s.drift
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, old := range d.series[repoKey] {
		if !slices.Contains(rec.Stacks, old) {
			s.metrics.drifted.DeleteLabelValues(repoKey, old)
		}
	}
	for _, st := range rec.Stacks {
		v := 0.0
		if slices.Contains(rec.Drifted, st) {
			v = 1
		}
		s.metrics.drifted.WithLabelValues(repoKey, st).Set(v)
	}
	d.series[repoKey] = slices.Clone(rec.Stacks)
	if rec.ScannedAt.After(d.lastScan) {
		d.lastScan = rec.ScannedAt
		s.metrics.lastScan.Set(float64(rec.ScannedAt.UnixNano()) / 1e9)
	}
}

// loadDriftMetrics sets the drift metrics from the last scan of each
// repository, whichever replica made it, so every replica reports the
// same.
func (s *Server) loadDriftMetrics(ctx context.Context, repos []repoRecord) {
	for _, repo := range repos {
		rec, err := s.loadDrift(ctx, repo)
		if err != nil {
			s.log.Warn("drift: cannot read the last scan", "repo", repo.key(), "err", err)
			continue
		}
		if rec.Run != "" {
			s.setDriftMetrics(repo.key(), rec)
		}
	}
}
