package planner

import (
	"context"
	"time"

	"github.com/strata-iac/strata/stacks"
)

// DriftFile is the drift report's name in the --out layout of a drift run,
// next to summary.json and comment.md.
const DriftFile = "drift.json"

// DriftOptions shape a drift run.
type DriftOptions struct {
	// RefreshOnly plans with -refresh-only: only what changed outside
	// Terraform counts, not code on the branch that was never applied.
	RefreshOnly bool
}

// Drift plans the stacks of t at t.Commit and judges each one. The
// summary's Operation is OpDrift and each stack's Status is the verdict:
// StatusChanges when it drifted, StatusNoChanges when it is in sync,
// StatusError when it could not be planned.
//
// A stack drifted when:
//   - in a normal plan, applying t.Commit would change something: a
//     resource created, updated, deleted, replaced, imported, moved or
//     forgotten, or an output changed. That covers changes made outside
//     Terraform (which the plan would undo) and code that was never
//     applied. Objects in Terraform's resource_drift that no planned
//     change follows from (an attribute under ignore_changes, a value the
//     provider normalised) are reported but do not count: Terraform itself
//     judges them irrelevant and would do nothing.
//   - with RefreshOnly, Terraform found any object changed outside
//     Terraform (resource_drift is not empty). Terraform's exit code is
//     not used there: some versions exit 2 for refresh-only plans without
//     any change, and OpenTofu never exits 2 for them.
//
// Policies are not evaluated: nothing is applied on the authority of a
// drift run.
func (s *Session) Drift(ctx context.Context, t *Target, opt DriftOptions) (Summary, error) {
	sum := Summary{
		Operation: OpDrift, Commit: t.Commit.Hash.String(), CreatedAt: time.Now().UTC(),
		Stacks: []Result{}, Warnings: t.Warnings,
	}
	if len(t.Stacks) == 0 {
		return sum, nil
	}
	ws, err := s.workspace(ctx, t.Commit)
	if err != nil {
		return sum, err
	}
	defer ws.close()
	results, err := s.planIn(ctx, t, ws, t.Stacks, opt.RefreshOnly)
	if err != nil {
		return sum, err
	}
	for i := range results {
		results[i].Status = driftStatus(results[i], opt.RefreshOnly)
	}
	sum.Stacks = results
	return sum, nil
}

// driftStatus is the verdict on one planned stack; see Session.Drift.
func driftStatus(r Result, refreshOnly bool) Status {
	if r.Status != StatusChanges && r.Status != StatusNoChanges {
		return r.Status
	}
	drifted := r.Counts.Changed()
	if refreshOnly {
		drifted = len(r.Drift) > 0
	}
	if drifted {
		return StatusChanges
	}
	return StatusNoChanges
}

// Kinds of DriftResource.
const (
	// ResourceDrifted: Terraform found the object changed outside
	// Terraform (the plan's resource_drift).
	ResourceDrifted = "drift"
	// ResourcePlanned: applying the ref would change the object.
	ResourcePlanned = "planned"
)

// DriftReport is what strata drift prints with --format json and writes
// to drift.json.
type DriftReport struct {
	// Ref is the ref the stacks were planned at, as given or as found
	// (the default branch); Commit is the commit it named.
	Ref    string       `json:"ref"`
	Commit string       `json:"commit"`
	Stacks []DriftStack `json:"stacks"`
}

// DriftStack is the verdict on one stack instance.
type DriftStack struct {
	Dir       string `json:"dir"`
	Workspace string `json:"workspace"`
	Drifted   bool   `json:"drifted"`
	Counts    Counts `json:"counts"`
	// Resources lists the objects Terraform found changed outside
	// Terraform, then those the plan would change; never null.
	Resources []DriftResource `json:"resources"`
	// Error says why the stack could not be checked; "" when it was.
	Error string `json:"error"`
}

// DriftResource is one object of a drift report.
type DriftResource struct {
	Address string `json:"address"`
	// Action is what changed outside Terraform (Kind ResourceDrifted) or
	// what the plan would do (Kind ResourcePlanned): create, update,
	// delete, replace, forget, no-op.
	Action    string `json:"action"`
	Kind      string `json:"kind"`
	Reason    string `json:"reason,omitempty"`
	MovedFrom string `json:"moved_from,omitempty"`
	Imported  bool   `json:"imported,omitempty"`
}

// NewDriftReport reports a drift run (the Summary of Session.Drift) made
// at ref.
func NewDriftReport(ref string, s Summary) DriftReport {
	rep := DriftReport{Ref: ref, Commit: s.Commit, Stacks: make([]DriftStack, 0, len(s.Stacks))}
	for _, r := range s.Stacks {
		st := DriftStack{Dir: r.Dir, Workspace: r.Workspace, Drifted: r.Status == StatusChanges, Counts: r.Counts, Resources: []DriftResource{}, Error: r.Error}
		for _, d := range r.Drift {
			st.Resources = append(st.Resources, DriftResource{Address: d.Address, Action: d.Action, Kind: ResourceDrifted, Reason: d.Reason})
		}
		for _, c := range r.Changes {
			st.Resources = append(st.Resources, DriftResource{
				Address: c.Address, Action: c.Action, Kind: ResourcePlanned,
				Reason: c.Reason, MovedFrom: c.MovedFrom, Imported: c.Imported,
			})
		}
		if r.Status != StatusChanges && r.Status != StatusNoChanges && st.Error == "" {
			st.Error = string(r.Status)
		}
		rep.Stacks = append(rep.Stacks, st)
	}
	return rep
}

// Name is how the stack instance is written: DIR, or DIR@WORKSPACE.
func (s DriftStack) Name() string { return stacks.InstanceName(s.Dir, s.Workspace) }

// Drifted lists the stack instances that drifted, by name.
func (r DriftReport) Drifted() []string {
	var out []string
	for _, s := range r.Stacks {
		if s.Drifted {
			out = append(out, s.Name())
		}
	}
	return out
}

// Failed lists the stack instances that could not be checked, by name.
func (r DriftReport) Failed() []string {
	var out []string
	for _, s := range r.Stacks {
		if s.Error != "" {
			out = append(out, s.Name())
		}
	}
	return out
}
