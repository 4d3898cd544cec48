package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/stacks"
)

// handle processes one queued item. An error puts the item back on the
// queue for a retry: return one only for failures that may pass (the forge
// or the store unreachable, a fetch failing, shutdown). What the user must
// fix is reported on the merge request instead.
func (s *Server) handle(ctx context.Context, item queue.Item) error {
	switch item.Kind {
	case kindEvent:
		var ev forge.Event
		if err := json.Unmarshal(item.Payload, &ev); err != nil {
			s.log.Error("queue: dropping an unreadable event", "item", item.ID, "err", err)
			return nil
		}
		return s.handleMR(ctx, ev)
	case kindSweep:
		var ref mrRef
		if err := json.Unmarshal(item.Payload, &ref); err != nil {
			return nil
		}
		return s.sweepMR(ctx, ref)
	case kindDrift:
		return s.driftScan(ctx, item.Payload)
	}
	s.log.Error("queue: dropping an item of unknown kind", "item", item.ID, "kind", item.Kind)
	return nil
}

func (s *Server) handleMR(ctx context.Context, ev forge.Event) error {
	switch ev.Action {
	case forge.ActionOpened, forge.ActionReopened, forge.ActionUpdated:
		return s.plan(ctx, ev, nil, string(ev.Action))
	case forge.ActionApproved:
		cfg, err := s.targetConfig(ctx, ev)
		if err != nil || cfg.ApplyOn != stacks.ApplyOnApproval {
			return err
		}
		return s.apply(ctx, ev, cfg, nil, triggerApproval)
	case forge.ActionMerged:
		return s.merged(ctx, ev)
	case forge.ActionClosed:
		return s.closed(ctx, ev)
	case forge.ActionCommented:
		return s.comment(ctx, ev)
	}
	return nil // edited, unapproved: nothing to do
}

// Apply triggers.
const (
	triggerApproval = "approval"
	triggerMerge    = "merge"
	triggerComment  = "comment"
)

// comment runs a comment command.
func (s *Server) comment(ctx context.Context, ev forge.Event) error {
	cmd, ok, perr := parseCommand(ev.Body)
	if !ok {
		return nil
	}
	bot, err := s.cfg.Forge.BotUsername(ctx)
	if err != nil {
		return err
	}
	if strings.EqualFold(ev.User, bot) {
		return nil
	}
	if perr != nil {
		return s.reply(ctx, ev, fmt.Sprintf("strata cannot read that command: %v.\n\n%s", perr, helpText))
	}
	if cmd.Name == cmdHelp {
		return s.reply(ctx, ev, helpText)
	}
	if ev.State != "" && ev.State != forge.StateOpened {
		return s.reply(ctx, ev, fmt.Sprintf("This merge request is %s: strata runs commands on open merge requests only.", ev.State))
	}
	// The head in a comment's payload may be older than the merge
	// request's; act on the current one.
	mr, err := s.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return err
	}
	ev.HeadSHA, ev.Draft, ev.TargetBranch = mr.HeadSHA, mr.Draft, mr.TargetBranch
	switch cmd.Name {
	case cmdPlan:
		return s.plan(ctx, ev, cmd.Stacks, triggerComment)
	case cmdApply:
		cfg, err := s.targetConfig(ctx, ev)
		if err != nil {
			return err
		}
		return s.apply(ctx, ev, cfg, cmd.Stacks, triggerComment)
	case cmdUnlock:
		return s.unlock(ctx, ev)
	case cmdApprovePolicies:
		return s.approvePolicies(ctx, ev)
	}
	return nil
}

// plan plans the stacks a merge request touches (or those named), holding
// a lock on each, and posts the result.
func (s *Server) plan(ctx context.Context, ev forge.Event, only []string, trigger string) error {
	ref := refOf(ev)
	if ev.Fork && !s.cfg.AllowForks {
		s.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "merge requests from forks are not planned"})
		return s.upsertNote(ctx, ref, "strata does not plan merge requests from forks: planning runs the merge request's code "+
			"with the server's credentials. Push the branch to this project instead, or ask the strata operators "+
			"to start the server with `--allow-forks`.")
	}
	st, err := s.loadState(ctx, ref)
	if err != nil {
		return err
	}
	s.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusPending, Description: "planning"})
	rec := s.startRun(ctx, "plan", ref, ev.HeadSHA, ev.User, trigger, forge.StatusPlan)
	sum, err := s.planMR(ctx, ev, st, only)
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			s.finishRun(ctx, rec, runFailed, nil, err)
			s.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: oneLine(ue.Error())})
			return s.upsertNote(ctx, ref, fmt.Sprintf("### ❌ strata could not plan `%s`\n\n%s", short(ev.HeadSHA), ue.Error()))
		}
		state := runFailed
		if ctx.Err() != nil {
			state = runInterrupted
		}
		s.finishRun(ctx, rec, state, nil, err)
		s.setStatus(context.WithoutCancel(ctx), ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: forge.StatusFailed, Description: "not planned: " + oneLine(err.Error())})
		return err
	}
	failed := len(failedDirs(sum)) > 0
	state, status := runCompleted, forge.StatusSuccess
	if failed {
		state, status = runFailed, forge.StatusFailed
	}
	s.finishRun(ctx, rec, state, &sum, nil)
	s.setStatus(ctx, ev.Repo, ev.HeadSHA, forge.Status{Name: forge.StatusPlan, State: status, Description: describe(sum)})
	return nil
}

// userError is a failure the merge request's author must fix (bad
// strata.yaml, an unknown stack); it is reported, not retried.
type userError struct{ err error }

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

// planMR does the work of plan: fetch, select, lock, plan, store, comment.
func (s *Server) planMR(ctx context.Context, ev forge.Event, st *mrState, only []string) (planner.Summary, error) {
	ref := refOf(ev)
	sess, err := s.session(ctx, ev, ev.HeadSHA)
	if err != nil {
		return planner.Summary{}, err
	}
	defer sess.Close()
	target := "refs/heads/" + ev.TargetBranch
	sel := planner.Selection{Base: target, Head: ev.HeadSHA}
	if len(only) > 0 {
		sel = planner.Selection{Head: ev.HeadSHA, Stacks: only}
	}
	tgt, err := sess.Select(ctx, sel)
	if err != nil {
		return planner.Summary{}, &userError{err}
	}
	toPlan, locked, held, err := s.lockStacks(ctx, ref, ev, tgt)
	if err != nil {
		return planner.Summary{}, err
	}
	sum, err := sess.PlanTarget(ctx, tgt, toPlan, target)
	if err != nil {
		// Keep a record of the locks just taken, so unlock and close find them.
		st.Locks = union(st.Locks, held)
		if serr := s.saveState(ctx, st); serr != nil {
			s.log.Error("cannot record locks", "mr", ref.String(), "err", serr)
		}
		return planner.Summary{}, &userError{err}
	}
	sum.Stacks = mergeResults(tgt.Dirs, sum.Stacks, locked)
	prefix := ref.prefix() + "/plans/" + ev.HeadSHA
	if len(only) > 0 && st.Head == ev.HeadSHA && st.Plans != "" {
		// A partial plan at the same commit updates the plan set.
		if prev, err := planner.ReadSummary(ctx, prefixed{s.cfg.Store, st.Plans}); err == nil {
			sum = replaceStacks(prev, sum)
		}
	} else {
		s.releaseExcept(ctx, ref, st.Locks, held)
		st.Locks = nil
	}
	cfg, err := configAt(sess.Repo(), ev.TargetBranch)
	if err != nil {
		return planner.Summary{}, err
	}
	bodies := s.render(cfg, sum, nextStep(cfg, sum))
	if err := planner.WriteOut(ctx, prefixed{s.cfg.Store, prefix}, sum, strings.Join(bodies, "\n\n")); err != nil {
		return planner.Summary{}, err
	}
	if st.Head != ev.HeadSHA {
		st.PolicyApproval = nil // an approval covers one commit only
		st.AppliedAt = ""
	}
	st.Head, st.Base, st.Plans = ev.HeadSHA, sum.Base, prefix
	st.Locks = union(st.Locks, held)
	if err := s.saveState(ctx, st); err != nil {
		return planner.Summary{}, err
	}
	return sum, s.postNote(ctx, ref, bodies)
}

// mergeResults lays planned and locked stacks out in the selection's order.
func mergeResults(order []string, planned []planner.Result, locked map[string]planner.Result) []planner.Result {
	byDir := map[string]planner.Result{}
	for _, r := range planned {
		byDir[r.Dir] = r
	}
	out := make([]planner.Result, 0, len(order))
	for _, d := range order {
		if r, ok := byDir[d]; ok {
			out = append(out, r)
		} else if r, ok := locked[d]; ok {
			out = append(out, r)
		}
	}
	return out
}

// replaceStacks puts the stacks of next into prev, keeping prev's others.
func replaceStacks(prev, next planner.Summary) planner.Summary {
	byDir := map[string]planner.Result{}
	for _, r := range next.Stacks {
		byDir[r.Dir] = r
	}
	var out []planner.Result
	for _, r := range prev.Stacks {
		if n, ok := byDir[r.Dir]; ok {
			out = append(out, n)
			delete(byDir, r.Dir)
		} else {
			out = append(out, r)
		}
	}
	for _, r := range next.Stacks {
		if _, ok := byDir[r.Dir]; ok {
			out = append(out, r)
		}
	}
	prev.Stacks, prev.CreatedAt = out, next.CreatedAt
	return prev
}

// session fetches the repository's mirror until it holds sha and opens a
// planner session on it.
func (s *Server) session(ctx context.Context, ev forge.Event, sha string) (*planner.Session, error) {
	url, auth, err := s.cfg.Forge.CloneAuth(ev.CloneURL)
	if err != nil {
		return nil, &userError{err}
	}
	key := ev.Forge + "/" + ev.Repo
	m, err := s.mirrors.FetchCommit(ctx, key, url, auth, sha)
	if err != nil {
		return nil, err
	}
	return planner.OpenSession(planner.SessionOptions{
		RepoDir: m.Path(), RepoName: key, DataDir: s.cfg.DataDir,
		StackTimeout: s.cfg.StackTimeout, Environ: s.cfg.Environ,
	})
}

// targetConfig reads strata.yaml from the merge request's target branch:
// what governs applying (apply_on, requirements, policy owners) is what the
// protected branch says, not what the merge request proposes.
func (s *Server) targetConfig(ctx context.Context, ev forge.Event) (*stacks.Config, error) {
	url, auth, err := s.cfg.Forge.CloneAuth(ev.CloneURL)
	if err != nil {
		return nil, err
	}
	m, err := s.mirrors.Fetch(ctx, ev.Forge+"/"+ev.Repo, url, auth)
	if err != nil {
		return nil, err
	}
	repo, err := stacks.OpenRepo(m.Path())
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	return configAt(repo, ev.TargetBranch)
}

// configAt reads strata.yaml from the head of branch in repo.
func configAt(repo *stacks.Repo, branch string) (*stacks.Config, error) {
	c, err := repo.Resolve("refs/heads/" + branch)
	if err != nil {
		return nil, err
	}
	return repo.ConfigAt(c)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range append(append([]string{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
