package review

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
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

// setStatus sets a commit status; a failure is logged, not fatal: the note
// carries the same news.
func (r *Reviewer) setStatus(ctx context.Context, repo, sha string, st forge.Status) {
	if err := r.cfg.Forge.SetStatus(ctx, repo, sha, st); err != nil {
		r.log.Error("cannot set commit status", "repo", repo, "commit", short(sha), "status", st.Name, "err", err)
	}
}

// nextStep says on the note what happens next, per apply_on. In CI mode
// (inCI) nothing reads comments: the pipeline's jobs do the work.
func nextStep(cfg *stacks.Config, sum planner.Summary, inCI bool) string {
	if failed := sum.Failed(); len(failed) > 0 {
		if inCI {
			return fmt.Sprintf("Fix %s and push: the pipeline plans every new commit.", strings.Join(codeList(failed), ", "))
		}
		return fmt.Sprintf("Fix %s and push: strata plans every new commit. Comment `strata plan` to plan again without a change.", strings.Join(codeList(failed), ", "))
	}
	if sum.HasLocked() {
		if inCI {
			return "Some stacks are locked by another merge request; once it is merged or closed, run this pipeline's plan job again to plan them."
		}
		return "Some stacks are locked by another merge request; once it is merged or closed, comment `strata plan` to plan them."
	}
	if !sum.HasChanges() {
		return "Nothing to apply."
	}
	switch {
	case cfg.ApplyOn == stacks.ApplyOnApproval && inCI:
		return "Once this merge request is approved, run its pipeline's apply job (`strata ci apply`) to apply these plans."
	case cfg.ApplyOn == stacks.ApplyOnApproval:
		return "Approve this merge request to apply these plans (or comment `strata apply` once approved)."
	case cfg.ApplyOn == stacks.ApplyOnComment && inCI:
		return "Run this merge request's pipeline's apply job (`strata ci apply`) to apply these plans, once the requirements hold (" + strings.Join(cfg.Requirements, ", ") + ")."
	case cfg.ApplyOn == stacks.ApplyOnComment:
		return "Comment `strata apply` to apply these plans, once the requirements hold (" + strings.Join(cfg.Requirements, ", ") + ")."
	case inCI:
		return "Merge this merge request: the target branch's pipeline then applies these plans (`strata ci apply`)."
	}
	return "Merge this merge request to apply these plans."
}

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
		out[i] = "`" + s + "`"
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
