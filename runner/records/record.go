package records

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
)

// Trigger is what started a run.
type Trigger string

// Triggers.
const (
	TriggerOpened   Trigger = "opened"
	TriggerReopened Trigger = "reopened"
	TriggerUpdated  Trigger = "updated"
	TriggerComment  Trigger = "comment"
	TriggerApproval Trigger = "approval"
	TriggerMerge    Trigger = "merge"
	TriggerSchedule Trigger = "schedule"
	// TriggerPipeline: a CI job (strata ci plan) asked.
	TriggerPipeline Trigger = "pipeline"
)

// State is where a run stands.
type State string

// Run states.
const (
	StateRunning     State = "running"
	StateCompleted   State = "completed"
	StateFailed      State = "failed"
	StateRefused     State = "refused"
	StateInterrupted State = "interrupted"
)

// Record is the durable account of one run: who, which commit, which
// stacks, results, timings.
type Record struct {
	ID        string            `json:"id"`
	Operation planner.Operation `json:"operation"`
	Forge     string            `json:"forge"`
	Repo      string            `json:"repo"`
	MR        int64             `json:"mr,omitempty"`
	Commit    string            `json:"commit"`
	User      string            `json:"user,omitempty"`
	Trigger   Trigger           `json:"trigger"`
	Replica   string            `json:"replica"`
	State     State             `json:"state"`
	Error     string            `json:"error,omitempty"`
	StartedAt time.Time         `json:"started_at"`
	EndedAt   time.Time         `json:"ended_at,omitzero"`
	Stacks    []StackOutcome    `json:"stacks,omitempty"`
	// Status is the commit status the run set, so an interrupted run's
	// status can be settled by whoever finds the record.
	Status string `json:"status,omitempty"`
	// Ref is the branch a drift scan planned; Scheduled the tick it ran
	// for; Artifacts the store prefix of its plans and drift.json.
	Ref       string    `json:"ref,omitempty"`
	Scheduled time.Time `json:"scheduled_at,omitzero"`
	Artifacts string    `json:"artifacts,omitempty"`
	// Item is the queue item whose handling started the run; Heartbeat
	// when its replica last renewed the record of a run in progress.
	Item      string    `json:"item,omitempty"`
	Heartbeat time.Time `json:"heartbeat_at,omitzero"`
	// Log is the store key of the run's log (LogKey), once it ended;
	// Verify what the plan after an apply found (see Verification).
	Log    string        `json:"log,omitempty"`
	Verify *Verification `json:"verify,omitempty"`
}

// Verification is what planning the applied stacks of an apply again
// found.
type Verification struct {
	// Result is VerifyVerified, VerifyNotConverged or VerifyError.
	Result string `json:"result"`
	// Unconverged are the stacks that still have changes, with their
	// addresses.
	Unconverged []Unconverged `json:"unconverged,omitempty"`
	Error       string        `json:"error,omitempty"`
}

// Verification results, as the metric strata_apply_verified_total counts
// them.
const (
	VerifyVerified     = "verified"
	VerifyNotConverged = "not_converged"
	VerifyError        = "error"
)

// Unconverged is an applied stack whose plan still has changes.
type Unconverged struct {
	Dir       string   `json:"dir"`
	Addresses []string `json:"addresses"`
}

// StackOutcome is one stack instance's part of a run.
type StackOutcome struct {
	Dir       string         `json:"dir"`
	Workspace string         `json:"workspace"`
	Status    planner.Status `json:"status"`
	Counts    planner.Counts `json:"counts"`
	Error     string         `json:"error,omitempty"`
	Seconds   float64        `json:"seconds"`
	// Env is what strata.yaml's env gave terraform (planner.Result.Env:
	// values of names that look secret are masked); Targets the -target
	// addresses of a partial plan.
	Env     map[string]string `json:"env,omitempty"`
	Targets []string          `json:"targets,omitempty"`
}

// RepoRef is the repository the run is about.
func (r *Record) RepoRef() forge.RepoRef { return forge.RepoRef{Forge: r.Forge, Path: r.Repo} }

// Run describes a run about to start.
type Run struct {
	// ID is the run's ID; "" gives it a new one (NewRunID).
	ID        string
	Operation planner.Operation
	Repo      forge.RepoRef
	// MR is the merge request's number; 0 for a drift scan.
	MR      int64
	Commit  string
	User    string
	Trigger Trigger
	// Status is the commit status the run sets, if any.
	Status string
}

// NewRunID returns a new run ID: sortable by time, unique.
func NewRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
