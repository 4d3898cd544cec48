package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/stacks"
)

// Interruption is what an apply cut short (a timeout, a shutdown, strata
// killed) left behind, as far as terraform can tell: resources it had
// started on, resources the state marks tainted, and its state lock.
type Interruption struct {
	// Unfinished are the resources terraform had started to create,
	// update or destroy and never reported done; known only when strata
	// saw the apply's output.
	Unfinished []string `json:"unfinished,omitempty"`
	// Tainted are the resources the state marks tainted: created but not
	// known to be whole, so the next apply replaces them.
	Tainted []string `json:"tainted,omitempty"`
	// LockReleased is the ID of the state lock the interrupted terraform
	// held and left behind, which strata released (terraform force-unlock).
	LockReleased string `json:"lock_released,omitempty"`
	// LockHeld describes a state lock strata found and left alone, since
	// it is not the interrupted apply's.
	LockHeld string `json:"lock_held,omitempty"`
	// Unknown says what could not be found out, and why.
	Unknown []string `json:"unknown,omitempty"`
}

// settleTimeout bounds finding out what an interrupted apply left.
const settleTimeout = 2 * time.Minute

// orphanWait is how long Settle waits for a state lock to go before it
// judges it: a terraform whose strata was killed gets SIGTERM on Linux
// (process_linux.go in planner/tf) and, unless the dead pipe to strata
// kills it first, stops gracefully and lets its lock go meanwhile.
const orphanWait = 20 * time.Second

// settle finds out what an interrupted apply left: the resources output
// shows unfinished, the state lock (released when it is the one the
// interrupted terraform held: taken for an apply by this user and host,
// with this terraform, since the apply began), and the tainted resources.
// It runs on a context of its own, since the run's has ended, and waits
// up to wait for a held lock to go before it judges it.
func (rn *run) settle(since time.Time, output string, wait time.Duration) *Interruption {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rn.stackCtx), settleTimeout)
	defer cancel()
	in := &Interruption{Unfinished: unfinished(output)}
	lock, _, err := rn.tf.StateLock(ctx, wait)
	switch {
	case err != nil:
		in.Unknown = append(in.Unknown, fmt.Sprintf("whether the state is still locked (%v)", err))
	case lock == nil:
	case ownLock(lock, since, rn.r.bin.Version):
		if out, err := rn.tf.ForceUnlock(ctx, lock.ID); err != nil || out.Code != 0 {
			in.LockHeld = fmt.Sprintf("%s, which terraform force-unlock could not release: %s", lock.ID, strings.TrimSpace(lastLine(string(out.Stderr))))
		} else {
			in.LockReleased = lock.ID
		}
	default:
		in.LockHeld = fmt.Sprintf("%s, taken by %s for %s at %s", lock.ID, lock.Who, lock.Operation, lock.Created.UTC().Format(time.RFC3339))
	}
	out, err := rn.tf.ShowStateJSON(ctx)
	if err == nil && out.Code != 0 {
		err = fmt.Errorf("terraform show exited with status %d", out.Code)
	}
	if err == nil {
		in.Tainted, err = tainted(out.Stdout)
	}
	if err != nil {
		in.Unknown = append(in.Unknown, fmt.Sprintf("which resources are tainted (%v)", err))
	}
	return in
}

// Settle finds out what an apply of the stack that strata did not see
// end (strata was killed) left behind, in a fresh run: since is when that
// apply began. A terraform left running by the dead strata may still hold
// the state lock, stopping: Settle gives it orphanWait to let it go before
// it judges the lock. The result is an error whose Interrupted says what is
// known, and whose Error says what to do.
func (r *Runner) Settle(ctx context.Context, job Job, since time.Time) Result {
	return r.do(ctx, job, "check", func(ctx context.Context, rn *run) {
		if !rn.prepare() || !rn.init(ctx, tf.InitOptions{}) || !rn.selectWorkspace(ctx) {
			return
		}
		rn.res.Status = StatusError
		rn.res.Interrupted = rn.settle(since, "", orphanWait)
		rn.res.Error = "apply interrupted: strata stopped before terraform reported the end of the apply begun at " +
			since.UTC().Format(time.RFC3339) + "; " + rn.res.Interrupted.describe()
	})
}

// SettleApplies finds out what the applies of the stacks named (DIR or
// DIR@WORKSPACE) at commit, begun at
// since and never seen to end (strata was killed), left behind: one Settle
// per stack, in a workspace of the commit. The summary is an apply's, every
// stack an error saying what is known and what to do.
func (s *Session) SettleApplies(ctx context.Context, commit *object.Commit, an *stacks.Analysis, names []string, since time.Time) (Summary, error) {
	sum := Summary{Operation: OpApply, Commit: commit.Hash.String(), CreatedAt: time.Now().UTC(), Stacks: []Result{}}
	if len(names) == 0 {
		return sum, nil
	}
	ws, err := s.workspace(ctx, commit)
	if err != nil {
		return sum, err
	}
	defer ws.close()
	run, err := s.runner(ctx, an, ws, names)
	if err != nil {
		return sum, err
	}
	for _, name := range names {
		sum.Stacks = append(sum.Stacks, run.Settle(ctx, s.job(an, ws.root, name), since))
	}
	return sum, nil
}

// describe says what the interruption left, and what to do, in a sentence
// or a few.
func (in *Interruption) describe() string {
	var parts []string
	if len(in.Tainted) > 0 {
		parts = append(parts, "terraform marked "+list(in.Tainted)+" tainted (the next apply replaces them)")
	}
	if len(in.Unfinished) > 0 {
		parts = append(parts, "it had started on "+list(in.Unfinished)+" without finishing")
	}
	if len(parts) == 0 && len(in.Unknown) == 0 {
		parts = append(parts, "terraform reports no resource tainted")
	}
	switch {
	case in.LockReleased != "":
		parts = append(parts, "the state lock it left ("+in.LockReleased+") is released")
	case in.LockHeld != "":
		parts = append(parts, "the state is locked by "+in.LockHeld+", not by this apply: strata left it alone; release it with terraform force-unlock once it is stale")
	case len(in.Unknown) == 0 || !strings.HasPrefix(in.Unknown[0], "whether the state"):
		parts = append(parts, "the state is not locked")
	}
	for _, u := range in.Unknown {
		parts = append(parts, "strata could not tell "+u)
	}
	return strings.Join(parts, "; ") + ". The plan no longer matches the state: plan again, then apply the new plan."
}

func list(addrs []string) string {
	const most = 10
	if len(addrs) > most {
		return strings.Join(addrs[:most], ", ") + fmt.Sprintf(" and %d more", len(addrs)-most)
	}
	return strings.Join(addrs, ", ")
}

// ownLock reports whether lock is the one an interrupted apply begun at
// since took: an apply's lock, taken by this user on this host (terraform
// records user@host), with this terraform version, after since. strata
// holds the stack's lock for the whole apply, so no other strata run took
// it meanwhile; a person or another tool would show another user, host,
// version or operation.
func ownLock(lock *tf.LockInfo, since time.Time, version string) bool {
	return lock.Operation == "OperationTypeApply" && lock.Who == terraformWho() &&
		(version == "" || lock.Version == version) && !lock.Created.Before(since.Add(-time.Second))
}

// terraformWho is the Who terraform writes in the locks it takes from
// this process's user and host.
func terraformWho() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// unfinishedRe matches terraform's lines about a resource operation
// starting and ending.
var unfinishedRe = regexp.MustCompile(`^(.+?): (Creating\.\.\.|Modifying\.\.\.|Destroying\.\.\.|Creation complete after |Modifications complete after |Destruction complete after )`)

// unfinished lists, in order, the resources terraform's apply output shows
// started and never finished.
func unfinished(output string) []string {
	var open []string
	for _, line := range strings.Split(output, "\n") {
		m := unfinishedRe.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		addr := m[1]
		if strings.HasSuffix(m[2], "...") {
			if !slices.Contains(open, addr) {
				open = append(open, addr)
			}
			continue
		}
		open = slices.DeleteFunc(open, func(a string) bool { return a == addr })
	}
	return open
}

// tainted lists the resources a `terraform show -json` of the state marks
// tainted.
func tainted(stateJSON []byte) ([]string, error) {
	var st tfjson.State
	if err := json.Unmarshal(stateJSON, &st); err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	if st.Values == nil {
		return nil, nil
	}
	var out []string
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if r.Tainted {
				out = append(out, r.Address)
			}
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	return out, nil
}
