package review

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/stacks"
)

// noteMarker is the hidden marker of strata's one note per merge request,
// by which it is found again and edited in place.
const noteMarker = "<!-- strata:mr -->"

// postNote writes bodies into strata's note (and its continuation notes),
// editing them in place when they exist, and returns the first. Continuations
// left over from a longer earlier comment are emptied rather than left stale.
func (r *Reviewer) postNote(ctx context.Context, ref forge.MRRef, bodies []string) (forge.Note, error) {
	f := r.cfg.Forge
	var first forge.Note
	for i, body := range bodies {
		marker := noteMarker
		if i > 0 {
			marker = comment.PartMarker(noteMarker, i+1)
		}
		note, err := r.putNote(ctx, ref, marker, body)
		if err != nil {
			return first, err
		}
		if i == 0 {
			first = note
		}
	}
	for n := len(bodies) + 1; ; n++ {
		marker := comment.PartMarker(noteMarker, n)
		note, ok, err := f.FindNote(ctx, ref.Path, ref.Number, marker)
		if err != nil || !ok {
			return first, err
		}
		if _, err := f.UpdateNote(ctx, ref.Path, ref.Number, note.ID, marker+"\n_This continuation is no longer used: strata's latest comment fits in fewer notes._"); err != nil {
			return first, err
		}
	}
}

func (r *Reviewer) putNote(ctx context.Context, ref forge.MRRef, marker, body string) (forge.Note, error) {
	f := r.cfg.Forge
	note, ok, err := f.FindNote(ctx, ref.Path, ref.Number, marker)
	if err != nil {
		return forge.Note{}, err
	}
	if ok {
		return f.UpdateNote(ctx, ref.Path, ref.Number, note.ID, body)
	}
	return f.CreateNote(ctx, ref.Path, ref.Number, body)
}

// upsertNote replaces strata's note with a plain message.
func (r *Reviewer) upsertNote(ctx context.Context, ref forge.MRRef, text string) error {
	_, err := r.postNote(ctx, ref, []string{noteMarker + "\n" + text})
	return err
}

// reply posts a separate note answering a comment command.
func (r *Reviewer) reply(ctx context.Context, ev forge.Event, text string) error {
	if ev.User != "" {
		text = "@" + ev.User + " " + text
	}
	_, err := r.cfg.Forge.CreateNote(ctx, ev.Repo, ev.Number, text)
	return err
}

// report is a run's commit status with what forges show beside it: the
// link to strata's note (else to the CI job) and the summary table.
func (r *Reviewer) report(name string, state forge.StatusState, sum planner.Summary, note forge.Note) forge.Status {
	target := note.URL
	if target == "" {
		target = r.jobURL()
	}
	return forge.Status{
		Name: name, State: state, Description: describe(sum), TargetURL: target,
		Summary: comment.Summary(sum, comment.Options{MaxSize: maxSummary}),
	}
}

// jobURL is the address of the CI job the Reviewer runs in, or "".
func (r *Reviewer) jobURL() string {
	if r.cfg.Job == nil {
		return ""
	}
	return r.cfg.Job.URL
}

// jobLine ends the note with a link to the CI job, in CI mode.
func (r *Reviewer) jobLine() string {
	if r.cfg.Job == nil || r.cfg.Job.URL == "" {
		return ""
	}
	url := strings.NewReplacer("<", "%3C", ">", "%3E", "\n", "").Replace(r.cfg.Job.URL)
	return fmt.Sprintf("\n\n<sub>Run by [%s](<%s>).</sub>", comment.Inert(r.cfg.Job.Name), url)
}

// maxSummary bounds Status.Summary: GitHub's limit on a check run's
// output.
const maxSummary = 65_535

// failOnPanic, deferred by a run once its record is started, settles the
// run when handling it panics: the record says failed, with the cause, the
// commit status fails with it, and the panic goes on to HandleEvent, which
// tells the merge request.
func (r *Reviewer) failOnPanic(ctx context.Context, rec *records.Record, repo, sha, status string) {
	v := recover()
	if v == nil {
		return
	}
	p := fault.Panicked(v)
	ctx = context.WithoutCancel(ctx)
	if rec.EndedAt.IsZero() {
		r.cfg.Records.Finish(ctx, rec, records.StateFailed, nil, p)
	}
	r.setStatus(ctx, repo, sha, forge.Status{Name: status, State: forge.StatusFailed, Description: oneLine(p.Error())})
	panic(p)
}

// setStatus sets a commit status; a failure is logged, not fatal: the note
// carries the same news.
func (r *Reviewer) setStatus(ctx context.Context, repo, sha string, st forge.Status) {
	if err := r.cfg.Forge.SetStatus(ctx, repo, sha, st); err != nil {
		r.log.Error("cannot set commit status", "repo", repo, "commit", short(sha), "status", st.Name, "err", err)
	}
}

// applyStep says how plans ready to be applied get applied, per apply_on;
// a partial plan (made with -target) only by a comment naming its stack.
// In CI mode (inCI) nothing reads comments: the pipeline's jobs apply.
func applyStep(cfg *stacks.Config, sum planner.Summary, inCI bool) string {
	var next string
	switch {
	case cfg.ApplyOn == stacks.ApplyOnApproval && inCI:
		next = "Once this merge request is approved, run its pipeline's apply job (`strata ci apply`) to apply these plans."
	case cfg.ApplyOn == stacks.ApplyOnApproval:
		next = "Approve this merge request to apply these plans (or comment `strata apply` once approved)."
	case cfg.ApplyOn == stacks.ApplyOnComment && inCI:
		next = "Run this merge request's pipeline's apply job (`strata ci apply`) to apply these plans, once the requirements hold (" + strings.Join(cfg.Requirements, ", ") + ")."
	case cfg.ApplyOn == stacks.ApplyOnComment:
		next = "Comment `strata apply` to apply these plans, once the requirements hold (" + strings.Join(cfg.Requirements, ", ") + ")."
	case inCI:
		next = "Merge this merge request: the target branch's pipeline then applies these plans (`strata ci apply`)."
	default:
		next = "Merge this merge request to apply these plans."
	}
	var partial []string
	full := false
	for _, res := range sum.Stacks {
		if res.Status == planner.StatusChanges {
			if res.Partial() {
				partial = append(partial, res.Name())
			} else {
				full = true
			}
		}
	}
	if len(partial) == 0 {
		return next
	}
	p := fmt.Sprintf("%s is a partial plan: comment %s to apply it, once the requirements hold; a merge or an approval never does.",
		comment.Code(partial[0]), comment.Code("strata apply -s "+partial[0]))
	if len(partial) > 1 {
		p = fmt.Sprintf("%s are partial plans: comment `strata apply -s STACK` to apply each, once the requirements hold; a merge or an approval never does.", strings.Join(codeList(partial), ", "))
	}
	if full {
		return p + " For the other stacks: " + next
	}
	return p + " Comment `strata plan` for a full plan."
}

// replanStep ends the next step of a run that failed; replanStepCI in CI
// mode.
const (
	replanStep   = "push the fix: strata plans every new commit (comment `strata plan` to plan again without one)."
	replanStepCI = "push the fix: the pipeline plans every new commit."
)

// describe sums a run up for a commit status description.
func describe(sum planner.Summary) string {
	var c planner.Counts
	changed, failed, locked := 0, 0, 0
	for _, res := range sum.Stacks {
		switch {
		case res.Status == planner.StatusChanges, res.Status == planner.StatusApplied:
			changed++
		case res.Status.Failed():
			failed++
		case res.Status == planner.StatusLocked:
			locked++
		}
		c.Create += res.Counts.Create
		c.Update += res.Counts.Update
		c.Delete += res.Counts.Delete
		c.Replace += res.Counts.Replace
	}
	d := fmt.Sprintf("%d stack%s", len(sum.Stacks), plural(len(sum.Stacks)))
	if failed > 0 {
		d += fmt.Sprintf(", %d failed", failed)
	}
	if locked > 0 {
		d += fmt.Sprintf(", %d locked", locked)
	}
	if changed > 0 {
		d += fmt.Sprintf(": +%d ~%d -%d ±%d", c.Create, c.Update, c.Delete, c.Replace)
	} else if failed == 0 && locked == 0 {
		d += ": no changes"
	}
	return d
}

func codeList(items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = comment.Code(s)
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
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
