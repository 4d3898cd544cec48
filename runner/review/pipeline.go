package review

import (
	"context"
	"fmt"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/stacks"
)

// The entry points below are for a caller that drives one step of a
// merge request itself, rather than through webhooks: CI mode, where a
// pipeline job plans or applies once and exits with the outcome. They do
// what the webhook handlers do, and return the run. An error they return
// may already be on the merge request (a refusal, a broken strata.yaml);
// its message says what happened either way.

// Plan plans the merge request of ev at ev.HeadSHA, as when it opens or
// gets new commits: lock, plan, store, note, statuses.
func (r *Reviewer) Plan(ctx context.Context, ev forge.Event) (planner.Summary, error) {
	return r.plan(ctx, ev, nil, nil, records.TriggerPipeline)
}

// Apply applies the reviewed plans of an open merge request when every
// requirement holds, as an approval (apply_on: approval) or a `strata
// apply` comment (apply_on: comment) would. With apply_on: merge it
// refuses: the plans are applied after the merge (ApplyMerged).
func (r *Reviewer) Apply(ctx context.Context, ev forge.Event) (planner.Summary, error) {
	cfg, err := r.targetConfig(ctx, ev)
	if err != nil {
		return planner.Summary{}, err
	}
	switch cfg.ApplyOn {
	case stacks.ApplyOnApproval:
		return r.apply(ctx, ev, cfg, nil, records.TriggerApproval)
	case stacks.ApplyOnComment:
		return r.apply(ctx, ev, cfg, nil, records.TriggerComment)
	}
	ref := ev.MRRef()
	return planner.Summary{}, fmt.Errorf("the target branch's strata.yaml says apply_on: %s: the plans of %s are applied after the merge, by strata ci apply in the pipeline of %s",
		cfg.ApplyOn, ref.Short(ref.String()), ev.TargetBranch)
}

// ApplyMerged does what a merge does: with apply_on: merge it applies
// the reviewed plans whose inputs are unchanged at the merged commit
// (ev.MergeCommitSHA, or the forge's), refusing the others; then it
// releases the merge request's locks.
func (r *Reviewer) ApplyMerged(ctx context.Context, ev forge.Event) (planner.Summary, error) {
	return r.merged(ctx, ev)
}

// SweepClosed releases the locks of merge request ref when it was closed
// without a merge (or is gone). A merged one keeps its locks: without a
// server, they are its apply's to release, in the target branch's
// pipeline. CI mode sweeps the owners of a repository's locks before it
// plans, since no server sweeps for it.
func (r *Reviewer) SweepClosed(ctx context.Context, ref forge.MRRef) error {
	return r.sweep(ctx, ref, forge.StateOpened, forge.StateLocked, forge.StateMerged)
}
