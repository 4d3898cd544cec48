package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/workspace"
	"github.com/strata-iac/strata/stacks"
)

// Forge is what review needs of a forge.
type Forge interface {
	// Name is the forge's short name ("gitlab"), as in forge.Event.Forge.
	Name() string
	// CommentLimit is the largest note the forge accepts, in characters.
	CommentLimit() int
	forge.MergeRequests
	forge.Notes
	forge.Statuses
	forge.Teams
}

// Config wires a Reviewer. Every field but AllowForks and Appliers is
// required.
type Config struct {
	Forge      Forge
	Locks      lock.Locker
	Store      store.Store
	Workspaces workspace.Opener
	Records    *records.Recorder
	// AllowForks lets merge requests from forks be planned, running their
	// code with the server's credentials.
	AllowForks bool
	// Appliers lists who may run `strata apply` (usernames, or
	// "group:path" / "team:path" for forge groups); empty allows anyone
	// who may comment, within the apply requirements.
	Appliers []string
	// PublicURL is where strata's web page is reached ("https://strata.
	// example.com"); when set, notes link each stack to its run's page.
	PublicURL string
	Log       *slog.Logger
	// Job, when set, is the CI job the Reviewer runs in (CI mode): the
	// note links to it, and so do commit statuses when the forge gives
	// the note no address of its own.
	Job *Job
}

// Job is a CI job, as the note names it.
type Job struct {
	Name string // e.g. "GitLab CI job 4242"
	URL  string
}

// Reviewer handles the merge requests of one forge.
type Reviewer struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a Reviewer.
func New(cfg Config) (*Reviewer, error) {
	if cfg.Forge == nil || cfg.Locks == nil || cfg.Store == nil || cfg.Workspaces == nil || cfg.Records == nil || cfg.Log == nil {
		return nil, errors.New("review: Forge, Locks, Store, Workspaces, Records and Log are required")
	}
	return &Reviewer{cfg: cfg, log: cfg.Log}, nil
}

// HandleEvent acts on one webhook event. A permanent failure is reported
// on the merge request and not returned; an error means the event should
// be retried. A panic is reported on the merge request too, and returned
// as a *fault.PanicError, so the worker logs it and gives the event up.
func (r *Reviewer) HandleEvent(ctx context.Context, ev forge.Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p := fault.Panicked(v)
			body := fmt.Sprintf("### ❌ strata failed while handling this event\n\n%s\n\n"+
				"This is a bug in strata, not in this merge request: the event is given up rather than retried, and the server "+
				"carries on. Tell the strata operators; the server log holds the details.", comment.Inert(p.Error()))
			if nerr := r.upsertNote(context.WithoutCancel(ctx), ev.MRRef(), body); nerr != nil {
				r.log.Error("cannot report a failure on the merge request", "mr", ev.MRRef().String(), "err", nerr)
			}
			err = p
		}
	}()
	err = r.dispatch(ctx, ev)
	if err == nil || isSettled(err) {
		return nil
	}
	if !fault.IsPermanent(err) {
		return err
	}
	r.log.Warn("event failed for good; telling the merge request", "mr", ev.MRRef().String(), "action", string(ev.Action), "err", err)
	return r.upsertNote(ctx, ev.MRRef(), fmt.Sprintf("### ❌ strata could not act on this merge request\n\n%s", comment.Inert(err.Error())))
}

func (r *Reviewer) dispatch(ctx context.Context, ev forge.Event) error {
	switch ev.Action {
	case forge.ActionOpened, forge.ActionReopened, forge.ActionUpdated:
		_, err := r.plan(ctx, ev, nil, nil, records.Trigger(ev.Action))
		return err
	case forge.ActionApproved:
		cfg, err := r.targetConfig(ctx, ev)
		if err != nil || cfg.ApplyOn != stacks.ApplyOnApproval {
			return err
		}
		_, err = r.apply(ctx, ev, cfg, nil, records.TriggerApproval)
		return err
	case forge.ActionMerged:
		_, err := r.merged(ctx, ev)
		return err
	case forge.ActionClosed:
		return r.closed(ctx, ev)
	case forge.ActionCommented:
		return r.comment(ctx, ev)
	}
	return nil // edited, unapproved: nothing to do
}

// comment runs a comment command.
func (r *Reviewer) comment(ctx context.Context, ev forge.Event) error {
	cmd, ok, perr := parseCommand(ev.Body)
	if !ok {
		return nil
	}
	bot, err := r.cfg.Forge.BotUsername(ctx)
	if err != nil {
		return err
	}
	if strings.EqualFold(ev.User, bot) {
		return nil
	}
	if perr != nil {
		return r.reply(ctx, ev, fmt.Sprintf("strata cannot read that command: %s.\n\n%s", comment.Inert(perr.Error()), helpText))
	}
	if cmd.Name == cmdHelp {
		return r.reply(ctx, ev, helpText)
	}
	if ev.State != "" && ev.State != forge.StateOpened {
		return r.reply(ctx, ev, fmt.Sprintf("This merge request is %s: strata runs commands on open merge requests only.", comment.Inert(string(ev.State))))
	}
	// The head in a comment's payload may be older than the merge
	// request's; act on the current one.
	mr, err := r.cfg.Forge.MergeRequest(ctx, ev.Repo, ev.Number)
	if err != nil {
		return err
	}
	ev.HeadSHA, ev.Draft, ev.TargetBranch = mr.HeadSHA, mr.Draft, mr.TargetBranch
	// A comment's payload may not say whether the merge request comes
	// from a fork (GitHub's does not): the forge's answer decides.
	ev.Fork = ev.Fork || mr.Fork
	switch cmd.Name {
	case cmdPlan:
		_, err := r.plan(ctx, ev, cmd.Stacks, cmd.Targets, records.TriggerComment)
		return err
	case cmdApply:
		cfg, err := r.targetConfig(ctx, ev)
		if err != nil {
			return err
		}
		_, err = r.apply(ctx, ev, cfg, cmd.Stacks, records.TriggerComment)
		return err
	case cmdUnlock:
		return r.unlock(ctx, ev)
	case cmdApprovePolicies:
		return r.approvePolicies(ctx, ev)
	}
	return nil
}

// open opens a planner session on the event's repository at sha ("":
// every branch's latest).
func (r *Reviewer) open(ctx context.Context, ev forge.Event, sha string) (*planner.Session, error) {
	return r.cfg.Workspaces.Open(ctx, workspace.Repo{RepoRef: ev.RepoRef(), CloneURL: ev.CloneURL}, sha)
}

// targetConfig reads strata.yaml from the merge request's target branch:
// what governs applying (apply_on, requirements, policy owners) is what the
// protected branch says, not what the merge request proposes.
func (r *Reviewer) targetConfig(ctx context.Context, ev forge.Event) (*stacks.Config, error) {
	sess, err := r.open(ctx, ev, "")
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	return configAt(sess.Repo(), targetRef(ev))
}

// targetRef is where the target branch is read: the commit the caller
// named (ev.TargetSHA), else the branch's head.
func targetRef(ev forge.Event) string {
	if ev.TargetSHA != "" {
		return ev.TargetSHA
	}
	return "refs/heads/" + ev.TargetBranch
}

// configAt reads strata.yaml from the target branch at ref in repo.
func configAt(repo *stacks.Repo, ref string) (*stacks.Config, error) {
	c, err := repo.Resolve(ref)
	if err != nil {
		return nil, fault.Permanent(fmt.Errorf("the target branch: %w", err))
	}
	return repo.ConfigAt(c)
}

// settled is how an event ended when nothing is left to do for it: the
// outcome is on the merge request (a refusal, a failure told in the note,
// a reply) or there was nothing to do. HandleEvent is done with it; CI
// mode exits with its message.
type settled struct{ error }

func (s settled) Unwrap() error { return s.error }

// settle is err, settled, unless telling the merge request (told) failed:
// then that failure is the event's, to retry.
func settle(err, told error) error {
	if told != nil {
		return told
	}
	return settled{err}
}

func isSettled(err error) bool {
	var s settled
	return errors.As(err, &s)
}
