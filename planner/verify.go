package planner

import (
	"context"
	"fmt"
	"strings"
)

// Verification is what planning the applied stacks of an apply again
// found: each applied stack's new plan, in the apply's order.
type Verification struct {
	Commit string   `json:"commit"`
	Stacks []Result `json:"stacks"`
}

// Verify plans again, at head, every stack of applied that terraform
// applied (StatusApplied), so that what the apply left undone shows:
// the infrastructure matches the code only when each new plan has no
// changes. Policies are not evaluated again; nothing is saved.
func (s *Session) Verify(ctx context.Context, head string, applied Summary) (Verification, error) {
	var names []string
	for _, res := range applied.Stacks {
		if res.Status == StatusApplied {
			names = append(names, res.Name())
		}
	}
	commit, err := s.repo.Resolve(head)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{Commit: commit.Hash.String()}
	if len(names) == 0 {
		return v, nil
	}
	an, err := s.repo.Analyze(ctx, commit)
	if err != nil {
		return v, err
	}
	ws, err := s.workspace(ctx, commit)
	if err != nil {
		return v, err
	}
	defer ws.close()
	v.Stacks, err = s.planIn(ctx, &Target{Commit: commit, Analysis: an, Stacks: names}, ws, names, false)
	return v, err
}

// Verified reports whether every applied stack planned again without
// changes (also when nothing was applied).
func (v Verification) Verified() bool {
	for _, res := range v.Stacks {
		if res.Status != StatusNoChanges {
			return false
		}
	}
	return true
}

// Remaining is the number of changes the new plans still make: resource
// changes, and output changes of stacks that change no resource.
func (v Verification) Remaining() int {
	n := 0
	for _, res := range v.Stacks {
		if res.Status == StatusChanges {
			n += remaining(res)
		}
	}
	return n
}

func remaining(res Result) int {
	if len(res.Changes) > 0 {
		return len(res.Changes)
	}
	return max(res.Counts.OutputChanges, 1)
}

// Addresses are the resources the new plan of res still changes, each
// with its action ("terraform_data.x (update)").
func Addresses(res Result) []string {
	out := make([]string, 0, len(res.Changes))
	for _, c := range res.Changes {
		out = append(out, fmt.Sprintf("%s (%s)", c.Address, c.Action))
	}
	if len(out) == 0 && res.Counts.OutputChanges > 0 {
		out = append(out, fmt.Sprintf("%d output%s", res.Counts.OutputChanges, plurals(res.Counts.OutputChanges)))
	}
	return out
}

// PerpetualDiffHint is what a stack that does not converge usually means.
const PerpetualDiffHint = "A stack that does not converge usually has a perpetual diff: a value computed anew on every plan " +
	"(`timestamp()`, `uuid()`), or an attribute the provider reports differently from the configuration. " +
	"Make the value stable, or add it to `lifecycle { ignore_changes = [...] }`."

// Markdown reports v for a merge request note: "✅ verified: no changes",
// or "⚠ not converged: N changes remain" with the addresses of each stack
// and the usual cause, and the stacks that could not be planned again.
func (v Verification) Markdown() string {
	if len(v.Stacks) == 0 {
		return ""
	}
	if v.Verified() {
		return fmt.Sprintf("✅ verified: no changes — %d applied stack%s planned again at `%s`.", len(v.Stacks), plurals(len(v.Stacks)), short(v.Commit))
	}
	var b strings.Builder
	n := v.Remaining()
	if n == 0 {
		fmt.Fprintf(&b, "⚠ not verified: applied stacks could not be planned again at `%s`:\n\n", short(v.Commit))
	} else {
		fmt.Fprintf(&b, "⚠ not converged: %d change%s remain%s after the apply (planned again at `%s`):\n\n", n, plurals(n), verbS(n), short(v.Commit))
	}
	for _, res := range v.Stacks {
		switch {
		case res.Status == StatusChanges:
			fmt.Fprintf(&b, "- `%s`: `%s`\n", res.Name(), strings.Join(Addresses(res), "`, `"))
		case res.Status != StatusNoChanges:
			fmt.Fprintf(&b, "- ⚠ `%s` could not be planned again: %s\n", res.Name(), oneLineOf(res.Error))
		}
	}
	if n > 0 {
		b.WriteString("\n" + PerpetualDiffHint)
	}
	return strings.TrimRight(b.String(), "\n")
}

func plurals(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

func oneLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
