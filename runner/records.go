package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"path"
	"strings"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
)

// Run record states.
const (
	runRunning     = "running"
	runCompleted   = "completed"
	runFailed      = "failed"
	runRefused     = "refused"
	runInterrupted = "interrupted"
)

// runRecord is the durable account of one run: who, which commit, which
// stacks, results, timings. While the run is in progress it also sits
// under runs/active/, so a replica that restarts after a crash can tell
// the runs it left unfinished and say so.
type runRecord struct {
	ID        string         `json:"id"`
	Operation string         `json:"operation"` // plan, apply, drift
	Forge     string         `json:"forge"`
	Repo      string         `json:"repo"`
	MR        int64          `json:"mr,omitempty"`
	Commit    string         `json:"commit"`
	User      string         `json:"user,omitempty"`
	Trigger   string         `json:"trigger"` // opened, comment, approval, merge, schedule, …
	Replica   string         `json:"replica"`
	State     string         `json:"state"`
	Error     string         `json:"error,omitempty"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   time.Time      `json:"ended_at,omitzero"`
	Stacks    []stackOutcome `json:"stacks,omitempty"`
	// Status is the commit status the run set, so an interrupted run's
	// status can be settled by whoever finds the record.
	Status string `json:"status,omitempty"`
	// Ref is the branch a drift scan planned; Scheduled the tick it ran
	// for; Artifacts the store prefix of its plans and drift.json.
	Ref       string    `json:"ref,omitempty"`
	Scheduled time.Time `json:"scheduled_at,omitzero"`
	Artifacts string    `json:"artifacts,omitempty"`
}

type stackOutcome struct {
	Dir     string         `json:"dir"`
	Status  planner.Status `json:"status"`
	Counts  planner.Counts `json:"counts"`
	Error   string         `json:"error,omitempty"`
	Seconds float64        `json:"seconds"`
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func (rec *runRecord) key() string {
	return path.Join("runs", rec.Forge, rec.Repo, rec.ID+".json")
}

func (rec *runRecord) activeKey() string { return path.Join("runs", "active", rec.ID+".json") }

// startRun records a run as started.
func (s *Server) startRun(ctx context.Context, op string, ref mrRef, commit, user, trigger, status string) *runRecord {
	rec := &runRecord{
		ID: newRunID(), Operation: op, Forge: ref.Forge, Repo: ref.Repo, MR: ref.Number,
		Commit: commit, User: user, Trigger: trigger, Replica: s.cfg.Replica, State: runRunning,
		StartedAt: time.Now().UTC(), Status: status,
	}
	s.putRecord(ctx, rec.activeKey(), rec)
	who := []any{"mr", ref.String()}
	if ref.Number == 0 {
		who = []any{"repo", ref.repoKey()}
	}
	s.log.Info("run started", append([]any{"run", rec.ID, "operation", op, "commit", short(commit), "trigger", trigger}, who...)...)
	return rec
}

// finishRun records the end of a run and counts it.
func (s *Server) finishRun(ctx context.Context, rec *runRecord, state string, sum *planner.Summary, runErr error) {
	rec.State, rec.EndedAt = state, time.Now().UTC()
	if runErr != nil {
		rec.Error = runErr.Error()
	}
	if sum != nil {
		for _, r := range sum.Stacks {
			rec.Stacks = append(rec.Stacks, stackOutcome{Dir: r.Dir, Status: r.Status, Counts: r.Counts, Error: r.Error, Seconds: r.Timings.Total})
			attrs := []any{"run", rec.ID, "stack", r.Dir, "status", string(r.Status), "error", r.Error}
			if rec.Operation == "drift" {
				attrs = append(attrs, "repo", rec.Forge+"/"+rec.Repo, "drifted", r.Status == planner.StatusChanges)
			}
			s.log.Info("stack done", attrs...)
		}
	}
	// A run cut short by shutdown still gets its record written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	s.putRecord(ctx, rec.key(), rec)
	if err := s.cfg.Store.Delete(ctx, rec.activeKey()); err != nil {
		s.log.Error("run record: cannot clear the active entry", "run", rec.ID, "err", err)
	}
	s.metrics.runs.WithLabelValues(rec.Operation, state).Inc()
	s.metrics.runDuration.WithLabelValues(rec.Operation).Observe(rec.EndedAt.Sub(rec.StartedAt).Seconds())
	s.log.Info("run ended", "run", rec.ID, "operation", rec.Operation, "state", state, "seconds", rec.EndedAt.Sub(rec.StartedAt).Seconds(), "err", rec.Error)
}

func (s *Server) putRecord(ctx context.Context, key string, rec *runRecord) {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err == nil {
		_, err = s.cfg.Store.Put(ctx, key, data)
	}
	if err != nil {
		s.log.Error("run record: cannot write", "key", key, "err", err)
	}
}

// recoverInterrupted closes the runs this replica left in progress when it
// died: their records say "interrupted" and their commit statuses fail with
// the reason, instead of staying pending forever. The queue hands their
// events out again, so the work itself is redone.
func (s *Server) recoverInterrupted(ctx context.Context) {
	keys, err := s.cfg.Store.List(ctx, "runs/active/")
	if err != nil {
		s.log.Error("run records: cannot list runs in progress", "err", err)
		return
	}
	for _, k := range keys {
		data, err := s.cfg.Store.Get(ctx, k)
		rec := &runRecord{}
		if err != nil || json.Unmarshal(data, rec) != nil || rec.Replica != s.cfg.Replica {
			continue
		}
		s.log.Warn("run interrupted by a restart", "run", rec.ID, "operation", rec.Operation, "repo", rec.Repo, "mr", rec.MR)
		if rec.Status != "" && rec.Commit != "" {
			s.setStatus(ctx, rec.Repo, rec.Commit, forge.Status{
				Name: rec.Status, State: forge.StatusFailed,
				Description: "interrupted: the strata server restarted; the run will be retried",
			})
		}
		s.finishRun(ctx, rec, runInterrupted, nil, nil)
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// oneLine keeps the first line of an error for a commit status or a log.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
