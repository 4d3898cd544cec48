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
// be retried.
func (r *Reviewer) HandleEvent(ctx context.Context, ev forge.Event) error {
	err := r.dispatch(ctx, ev)
	if err == nil || !fault.IsPermanent(err) {
		return err
	}
	r.log.Warn("event failed for good; telling the merge request", "mr", ev.MRRef().String(), "action", string(ev.Action), "err", err)
	return r.upsertNote(ctx, ev.MRRef(), fmt.Sprintf("### ❌ strata could not act on this merge request\n\n%s", comment.Inert(err.Error())))
}

func (r *Reviewer) dispatch(ctx context.Context, ev forge.Event) error {
	switch ev.Action {
	case forge.ActionOpened, forge.ActionReopened, forge.ActionUpdated:
		return r.plan(ctx, ev, nil, records.Trigger(ev.Action))
	case forge.ActionApproved:
		cfg, err := r.targetConfig(ctx, ev)
		if err != nil || cfg.ApplyOn != stacks.ApplyOnApproval {
			return err
		}
		return r.apply(ctx, ev, cfg, nil, records.TriggerApproval)
	case forge.ActionMerged:
		return r.merged(ctx, ev)
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
		return r.reply(ctx, ev, fmt.Sprintf("strata cannot read that command: %v.\n\n%s", perr, helpText))
	}
	if cmd.Name == cmdHelp {
		return r.reply(ctx, ev, helpText)
	}
	if ev.State != "" && ev.State != forge.StateOpened {
		return r.reply(ctx, ev, fmt.Sprintf("This merge request is %s: strata runs commands on open merge requests only.", ev.State))
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
		return r.plan(ctx, ev, cmd.Stacks, records.TriggerComment)
	case cmdApply:
		cfg, err := r.targetConfig(ctx, ev)
		if err != nil {
			return err
		}
		return r.apply(ctx, ev, cfg, cmd.Stacks, records.TriggerComment)
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
	return configAt(sess.Repo(), ev.TargetBranch)
}

// configAt reads strata.yaml from the head of branch in repo.
func configAt(repo *stacks.Repo, branch string) (*stacks.Config, error) {
	c, err := repo.Resolve("refs/heads/" + branch)
	if err != nil {
		return nil, fault.Permanent(fmt.Errorf("the target branch: %w", err))
	}
	return repo.ConfigAt(c)
}
