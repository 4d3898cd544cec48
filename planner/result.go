package planner

import (
	"slices"
	"time"

	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/stacks"
)

// Status is the outcome of one run of one stack.
type Status string

const (
	// StatusNoChanges: the plan found nothing to do.
	StatusNoChanges Status = "no-changes"
	// StatusChanges: the plan has changes to apply.
	StatusChanges Status = "changes"
	// StatusError: init, plan or apply failed; Diagnostics and Error say why.
	StatusError Status = "error"
	// StatusLocked: another merge request holds the stack; it was not planned.
	StatusLocked Status = "locked"
	// StatusApplied: the saved plan was applied.
	StatusApplied Status = "applied"
	// StatusRefused: apply refused the saved plan (tampered file, changed
	// inputs, unmet requirement); Error says why. State was not touched.
	StatusRefused Status = "refused"
	// StatusSkipped: not run because a stack it depends on failed.
	StatusSkipped Status = "skipped"
)

// Counts are the planned changes of one stack, by action, as terraform-json
// reports them. A replace counts once, under Replace, not under Create and
// Delete.
type Counts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
	Import  int `json:"import"`
	Move    int `json:"move"`
	NoOp    int `json:"no_op"`
	// Forget counts resources leaving the state without being destroyed
	// (a removed block with destroy = false).
	Forget int `json:"forget"`
	// OutputChanges counts root module outputs whose value changes.
	OutputChanges int `json:"output_changes"`
	// Drift counts resources Terraform found changed outside Terraform.
	Drift int `json:"drift"`
}

// Changed reports whether applying would change anything.
func (c Counts) Changed() bool {
	return c.Create+c.Update+c.Delete+c.Replace+c.Import+c.Move+c.Forget+c.OutputChanges > 0
}

// Action names used in ResourceChange.Action.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionReplace = "replace"
	ActionRead    = "read"
	ActionNoOp    = "no-op"
	ActionForget  = "forget"
)

// ResourceChange is one resource address and what the plan does to it.
type ResourceChange struct {
	Address string `json:"address"`
	Action  string `json:"action"`
	// Imported is true when the change imports an existing object.
	Imported bool `json:"imported,omitempty"`
	// MovedFrom is the previous address of a moved resource.
	MovedFrom string `json:"moved_from,omitempty"`
	// Reason is Terraform's action_reason, e.g. "replace_because_cannot_update".
	Reason string `json:"reason,omitempty"`
}

// Diagnostic is an error or warning Terraform reported.
type Diagnostic = tf.Diagnostic

// Timings are the wall-clock seconds of each phase of a run.
type Timings struct {
	Init  float64 `json:"init_s"`
	Plan  float64 `json:"plan_s"`
	Show  float64 `json:"show_s"`
	Apply float64 `json:"apply_s,omitempty"`
	Total float64 `json:"total_s"`
}

// Result is the outcome of one run (plan or apply) of one stack at one
// commit.
type Result struct {
	Dir       string `json:"dir"`
	Workspace string `json:"workspace"`
	Status    Status `json:"status"`
	// Commit is the commit the plan was made at.
	Commit string `json:"commit"`
	// Inputs maps the stack's directory and every local module it calls
	// (repo-relative) to its git tree hash at Commit. Apply refuses a plan
	// whose inputs differ at the commit being applied.
	Inputs  map[string]string `json:"inputs,omitempty"`
	Counts  Counts            `json:"counts"`
	Changes []ResourceChange  `json:"changes,omitempty"` // every action but no-op and read
	// Drift lists the resources Terraform saw changed outside Terraform.
	Drift       []ResourceChange `json:"drift,omitempty"`
	Diagnostics []Diagnostic     `json:"diagnostics,omitempty"`
	// Error is a one-line reason when Status is error, refused or skipped.
	Error string `json:"error,omitempty"`
	// Policy is the verdict of strata.yaml's policies on the plan; nil when
	// none are configured or no plan was made.
	Policy *policy.Result `json:"policy,omitempty"`
	// LockedBy names the merge request that holds the stack, when locked.
	LockedBy string `json:"locked_by,omitempty"`
	// Interrupted says what an apply cut short left behind (see
	// Interruption); Error says it in words.
	Interrupted *Interruption `json:"interrupted,omitempty"`
	// Targets are the -target addresses the plan was made with; a plan
	// with any is partial (Partial).
	Targets []string `json:"targets,omitempty"`
	// Env is what strata.yaml's env set for terraform, values of names
	// that look secret masked.
	Env map[string]string `json:"env,omitempty"`
	// PlanSHA256 is the checksum of the plan file.
	PlanSHA256       string    `json:"plan_sha256,omitempty"`
	TerraformVersion string    `json:"terraform_version,omitempty"`
	StartedAt        time.Time `json:"started_at,omitzero"`
	Timings          Timings   `json:"timings"`

	// PlanText is the human-readable plan (terraform show), sensitive values
	// masked by Terraform.
	PlanText string `json:"-"`
	// PlanFile is the binary plan file; PlanJSON its `terraform show -json`.
	PlanFile []byte `json:"-"`
	PlanJSON []byte `json:"-"`
	// ApplyText is what terraform apply printed, for an apply.
	ApplyText string `json:"-"`
	// Log is every terraform command of the run with what it printed:
	// the run's log artifact.
	Log string `json:"-"`
}

// Name is how the stack instance is written: DIR, or DIR@WORKSPACE.
func (r Result) Name() string { return stacks.InstanceName(r.Dir, r.Workspace) }

// Partial reports a plan made with -target: it leaves out part of the
// configuration, so it is applied only when someone names it.
func (r Result) Partial() bool { return len(r.Targets) > 0 }

// Operation is what a run does.
type Operation string

// Operations.
const (
	OpPlan  Operation = "plan"
	OpApply Operation = "apply"
	// OpDrift is a plan judged for drift (Session.Drift).
	OpDrift Operation = "drift"
)

// Failed reports whether a stack with this status did not succeed: it
// failed, or its apply was refused or skipped.
func (s Status) Failed() bool {
	return s == StatusError || s == StatusRefused || s == StatusSkipped
}

// Summary is one run over many stacks: what summary.json holds and what the
// comment renders.
type Summary struct {
	Operation Operation `json:"operation"`
	// Base is the merge base the change set was computed from, if any.
	Base string `json:"base,omitempty"`
	// Commit is the head commit planned.
	Commit    string    `json:"commit"`
	CreatedAt time.Time `json:"created_at"`
	Stacks    []Result  `json:"stacks"`
	// Deleted lists stacks removed by the change; they are never planned.
	Deleted  []string `json:"deleted,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Failed lists the stacks of the run that did not succeed, in order.
func (s Summary) Failed() []string {
	var out []string
	for _, r := range s.Stacks {
		if r.Status.Failed() {
			out = append(out, r.Name())
		}
	}
	return out
}

// HasChanges reports whether any stack has changes to apply (for a drift
// run: drifted).
func (s Summary) HasChanges() bool {
	return slices.ContainsFunc(s.Stacks, func(r Result) bool { return r.Status == StatusChanges })
}

// HasLocked reports whether any stack was left out because another merge
// request holds it.
func (s Summary) HasLocked() bool {
	return slices.ContainsFunc(s.Stacks, func(r Result) bool { return r.Status == StatusLocked })
}
