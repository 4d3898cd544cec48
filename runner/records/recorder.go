package records

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/store"
)

// Recorder writes run records to a Store.
type Recorder struct {
	Store store.Store
	// Replica names this process in the records it writes.
	Replica string
	// Lease is how long a run in progress stays alive without a heartbeat:
	// its record is renewed every third of it, and one not renewed for
	// two thirds of it belongs to a replica that stopped (Stale). Default
	// one minute; every replica sharing a store must use the same.
	Lease time.Duration
	Log   *slog.Logger
	// Ended, when set, is told of every run that ends (the metrics).
	Ended func(*Record)
	// Redactor masks secrets in run logs; nil masks nothing.
	Redactor *redact.Redactor
	// LogEvery is how often the log of a run in progress is written out
	// when it grew; default one second.
	LogEvery time.Duration

	mu    sync.Mutex
	beats map[string]*beat   // run ID → the heartbeat of its active record
	logs  map[string]*RunLog // run ID → its log, while it runs
}

// Start records a run as started, under runs/active/, and renews that
// record every third of the lease until Finish. ctx's queue item
// (WithItem) is recorded with it.
func (r *Recorder) Start(ctx context.Context, run Run) *Record {
	id := run.ID
	if id == "" {
		id = NewRunID()
	}
	now := time.Now().UTC()
	rec := &Record{
		ID: id, Operation: run.Operation, Forge: run.Repo.Forge, Repo: run.Repo.Path, MR: run.MR,
		Commit: run.Commit, User: run.User, Trigger: run.Trigger, Replica: r.Replica, State: StateRunning,
		StartedAt: now, Heartbeat: now, Status: run.Status, Item: ItemOf(ctx),
	}
	r.startBeat(ctx, rec)
	who := []any{"repo", run.Repo.String()}
	if run.MR != 0 {
		who = append(who, "mr", run.MR)
	}
	r.Log.Info("run started", append([]any{"run", rec.ID, "operation", string(run.Operation), "commit", short(run.Commit), "trigger", string(run.Trigger)}, who...)...)
	return rec
}

// Finish records the end of a run: its state, the stacks of sum (when
// not nil) and runErr (when not nil).
func (r *Recorder) Finish(ctx context.Context, rec *Record, state State, sum *planner.Summary, runErr error) {
	r.stopBeat(rec.ID)
	rec.State, rec.EndedAt = state, time.Now().UTC()
	if runErr != nil {
		rec.Error = runErr.Error()
	}
	if sum != nil {
		for _, res := range sum.Stacks {
			rec.Stacks = append(rec.Stacks, StackOutcome{
				Dir: res.Dir, Workspace: res.Workspace, Status: res.Status, Counts: res.Counts, Error: res.Error,
				Seconds: res.Timings.Total, Env: res.Env, Targets: res.Targets,
			})
			attrs := []any{"run", rec.ID, "stack", res.Name(), "status", string(res.Status), "error", res.Error}
			if rec.Operation == planner.OpDrift {
				attrs = append(attrs, "repo", rec.RepoRef().String(), "drifted", res.Status == planner.StatusChanges)
			}
			r.Log.Info("stack done", attrs...)
		}
	}
	// A run cut short by shutdown still gets its record written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	r.closeLog(ctx, rec)
	r.put(ctx, RunKey(rec.RepoRef(), rec.ID), rec)
	if err := r.Store.Delete(ctx, ActiveRunKey(rec.ID)); err != nil {
		r.Log.Error("run record: cannot clear the active entry", "run", rec.ID, "err", err)
	}
	if r.Ended != nil {
		r.Ended(rec)
	}
	r.Log.Info("run ended", "run", rec.ID, "operation", string(rec.Operation), "state", string(state), "seconds", rec.EndedAt.Sub(rec.StartedAt).Seconds(), "err", rec.Error)
}

func (r *Recorder) put(ctx context.Context, key string, rec *Record) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err == nil {
		_, err = r.Store.Put(ctx, key, data)
	}
	if err != nil {
		r.Log.Error("run record: cannot write", "key", key, "err", err)
	}
}

// Interrupted returns the runs this replica left in progress when it
// stopped without finishing them (a crash, a kill): the caller settles
// what they left behind (their commit statuses), then Finishes them as
// StateInterrupted.
func (r *Recorder) Interrupted(ctx context.Context) []*Record {
	keys, err := r.Store.List(ctx, activePrefix)
	if err != nil {
		r.Log.Error("run records: cannot list runs in progress", "err", err)
		return nil
	}
	var out []*Record
	for _, k := range keys {
		if !IsRecordKey(k) {
			continue
		}
		data, err := r.Store.Get(ctx, k)
		rec := &Record{}
		if err != nil || json.Unmarshal(data, rec) != nil {
			r.Log.Warn("run records: cannot read a run in progress", "key", k, "err", err)
			continue
		}
		if rec.Replica == r.Replica {
			out = append(out, rec)
		}
	}
	return out
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
