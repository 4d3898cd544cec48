package runner

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

// render turns a run into note bodies that fit the forge's limit.
func (s *Server) render(cfg *stacks.Config, sum planner.Summary, next string) []string {
	return comment.Render(sum, comment.Options{
		MaxSize: s.cfg.Forge.CommentLimit(), Marker: noteMarker, Next: next,
		PolicyHint: fmt.Sprintf("A policy owner (%s) must comment `strata approve-policies` before these plans can be applied.", ownersText(cfg)),
	})
}

// postNote writes bodies into strata's note (and its continuation notes),
// editing them in place when they exist. Continuations left over from a
// longer earlier comment are emptied rather than left stale.
func (s *Server) postNote(ctx context.Context, ref mrRef, bodies []string) error {
	f := s.cfg.Forge
	for i, body := range bodies {
		marker := noteMarker
		if i > 0 {
			marker = comment.PartMarker(noteMarker, i+1)
		}
		if err := s.putNote(ctx, ref, marker, body); err != nil {
			return err
		}
	}
	for n := len(bodies) + 1; ; n++ {
		marker := comment.PartMarker(noteMarker, n)
		note, ok, err := f.FindNote(ctx, ref.Repo, ref.Number, marker)
		if err != nil || !ok {
			return err
		}
		if _, err := f.UpdateNote(ctx, ref.Repo, ref.Number, note.ID, marker+"\n_This continuation is no longer used: strata's latest comment fits in fewer notes._"); err != nil {
			return err
		}
	}
}

func (s *Server) putNote(ctx context.Context, ref mrRef, marker, body string) error {
	f := s.cfg.Forge
	note, ok, err := f.FindNote(ctx, ref.Repo, ref.Number, marker)
	if err != nil {
		return err
	}
	if ok {
		_, err = f.UpdateNote(ctx, ref.Repo, ref.Number, note.ID, body)
	} else {
		_, err = f.CreateNote(ctx, ref.Repo, ref.Number, body)
	}
	return err
}

// upsertNote replaces strata's note with a plain message.
func (s *Server) upsertNote(ctx context.Context, ref mrRef, text string) error {
	return s.postNote(ctx, ref, []string{noteMarker + "\n" + text})
}

// reply posts a separate note answering a comment command.
func (s *Server) reply(ctx context.Context, ev forge.Event, text string) error {
	if ev.User != "" {
		text = "@" + ev.User + " " + text
	}
	_, err := s.cfg.Forge.CreateNote(ctx, ev.Repo, ev.Number, text)
	return err
}

// setStatus sets a commit status; a failure is logged, not fatal: the note
// carries the same news.
func (s *Server) setStatus(ctx context.Context, repo, sha string, st forge.Status) {
	if err := s.cfg.Forge.SetStatus(ctx, repo, sha, st); err != nil {
		s.log.Error("cannot set commit status", "repo", repo, "commit", short(sha), "status", st.Name, "err", err)
	}
}

// nextStep says on the note what happens next, per apply_on.
func nextStep(cfg *stacks.Config, sum planner.Summary) string {
	if failed := failedDirs(sum); len(failed) > 0 {
		return fmt.Sprintf("Fix %s and push: strata plans every new commit. Comment `strata plan` to plan again without a change.", strings.Join(codeList(failed), ", "))
	}
	changes := false
	for _, r := range sum.Stacks {
		if r.Status == planner.StatusChanges {
			changes = true
		}
		if r.Status == planner.StatusLocked {
			return "Some stacks are locked by another merge request; once it is merged or closed, comment `strata plan` to plan them."
		}
	}
	if !changes {
		return "Nothing to apply."
	}
	switch cfg.ApplyOn {
	case stacks.ApplyOnApproval:
		return "Approve this merge request to apply these plans (or comment `strata apply` once approved)."
	case stacks.ApplyOnComment:
		return "Comment `strata apply` to apply these plans, once the requirements hold (" + strings.Join(cfg.Requirements, ", ") + ")."
	}
	return "Merge this merge request to apply these plans."
}

// failedDirs lists the stacks of a run that did not succeed.
func failedDirs(sum planner.Summary) []string {
	var out []string
	for _, r := range sum.Stacks {
		switch r.Status {
		case planner.StatusError, planner.StatusRefused, planner.StatusSkipped:
			out = append(out, r.Dir)
		}
	}
	return out
}

// describe sums a run up for a commit status description.
func describe(sum planner.Summary) string {
	var c planner.Counts
	changed, failed, locked := 0, 0, 0
	for _, r := range sum.Stacks {
		switch r.Status {
		case planner.StatusChanges, planner.StatusApplied:
			changed++
		case planner.StatusError, planner.StatusRefused, planner.StatusSkipped:
			failed++
		case planner.StatusLocked:
			locked++
		}
		c.Create += r.Counts.Create
		c.Update += r.Counts.Update
		c.Delete += r.Counts.Delete
		c.Replace += r.Counts.Replace
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
