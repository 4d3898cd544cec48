package review

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/mirror"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/workspace"
)

// harness is a Reviewer on real parts, all in this process: the fake
// GitLab through strata's GitLab client, a git repository on disk fetched
// into a mirror, bbolt locks and a local store. Nothing here starts
// terraform: these tests are about decisions, not plans.
type harness struct {
	t     *testing.T
	gl    *fakegitlab.Server
	repo  *gittest.Repo
	rv    *Reviewer
	store store.Store
	locks lock.Locker
	path  string
}

const project = "acme/infra"

func newHarness(t *testing.T, files map[string]string) *harness {
	t.Helper()
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	repo := gittest.New(t)
	repo.Write(files)
	repo.Commit("main")
	gl.AddProject(fakegitlab.Project{Path: project, CloneURL: "file://" + repo.Dir})
	client, err := gitlab.New(gitlab.Options{BaseURL: gl.URL, Token: gl.Token, WebhookSecret: "s", AllowFileRemotes: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()
	locks, err := lock.Open(ctx, filepath.Join(dir, "locks.db"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locks.Close() })
	st, err := store.OpenDir(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := &workspace.Mirrors{
		Mirrors: &mirror.Mirrors{Dir: filepath.Join(dir, "mirrors"), AllowFileRemotes: true, Logger: log},
		Cloners: map[string]forge.Cloner{"gitlab": client}, DataDir: dir,
	}
	rv, err := New(Config{
		Forge: client, Locks: locks, Store: st, Workspaces: ws,
		Records: &records.Recorder{Store: st, Replica: "test", Log: log}, Log: log,
		Appliers: []string{"alice", "group:platform"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, gl: gl, repo: repo, rv: rv, store: st, locks: locks, path: project}
}

// branch commits files on a branch of its own and opens a merge request
// from it; it returns the event GitLab would send.
func (h *harness) openMR(iid int64, branch string, files map[string]string) forge.Event {
	h.t.Helper()
	h.repo.Git("checkout", "-q", "-b", branch, "main")
	h.repo.Write(files)
	sha := h.repo.Commit(branch)
	h.repo.Git("checkout", "-q", "main")
	h.gl.AddMergeRequest(h.path, fakegitlab.MergeRequest{IID: iid, Author: "bob", SourceBranch: branch, TargetBranch: "main", SHA: sha})
	return h.event(iid, forge.ActionOpened, "bob")
}

func (h *harness) event(iid int64, action forge.Action, user string) forge.Event {
	mr, _ := h.gl.MergeRequest(h.path, iid)
	p, _ := h.gl.Project(h.path)
	return forge.Event{
		Forge: "gitlab", DeliveryID: string(action), Action: action, Repo: h.path, ProjectID: p.ID,
		CloneURL: p.CloneURL, DefaultBranch: "main", Number: iid, State: forge.MRState(mr.State),
		SourceBranch: mr.SourceBranch, TargetBranch: mr.TargetBranch, HeadSHA: mr.SHA, User: user,
	}
}

func (h *harness) comment(iid int64, user, body string) forge.Event {
	ev := h.event(iid, forge.ActionCommented, user)
	ev.Body = body
	return ev
}

// plannedAt records plans of the merge request at its head, as a plan run
// would leave them: the plan set in the store and the state naming it.
func (h *harness) plannedAt(iid int64, results ...planner.Result) {
	h.t.Helper()
	ctx := context.Background()
	ev := h.event(iid, forge.ActionOpened, "bob")
	ref := ev.MRRef()
	prefix := records.MRPlansPrefix(ref, ev.HeadSHA)
	for i := range results {
		results[i].Commit = ev.HeadSHA
	}
	sum := planner.Summary{Operation: planner.OpPlan, Commit: ev.HeadSHA, Stacks: results}
	if err := planner.WriteOut(ctx, store.Prefixed(h.store, prefix), sum, "comment"); err != nil {
		h.t.Fatal(err)
	}
	st := &state{Ref: ref, Head: ev.HeadSHA, Plans: prefix}
	for _, res := range results {
		key := lock.Key("gitlab", h.path, res.Dir, "default")
		if _, err := h.locks.Acquire(ctx, key, lock.Owner{ID: ref.String(), Head: ev.HeadSHA}); err != nil {
			h.t.Fatal(err)
		}
		st.Locks = append(st.Locks, key)
	}
	if err := h.rv.saveState(ctx, st); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) handle(ev forge.Event) {
	h.t.Helper()
	if err := h.rv.HandleEvent(context.Background(), ev); err != nil {
		h.t.Fatalf("%s: %v", ev.Action, err)
	}
}

// note is strata's one note on the merge request.
func (h *harness) note(iid int64) string {
	for _, n := range h.gl.Notes(h.path, iid) {
		if strings.Contains(n.Body, noteMarker) {
			return n.Body
		}
	}
	return ""
}

// replies are strata's other notes on the merge request.
func (h *harness) replies(iid int64) []string {
	var out []string
	for _, n := range h.gl.Notes(h.path, iid) {
		if n.Author == h.gl.Bot && !strings.Contains(n.Body, noteMarker) {
			out = append(out, n.Body)
		}
	}
	return out
}

func (h *harness) status(iid int64, name string) string {
	mr, _ := h.gl.MergeRequest(h.path, iid)
	st, _ := h.gl.LatestStatus(h.path, mr.SHA, name)
	return st.State
}

func changes(dir string) planner.Result {
	return planner.Result{Dir: dir, Workspace: "default", Status: planner.StatusChanges, Counts: planner.Counts{Create: 1}, PlanSHA256: strings.Repeat("0", 64)}
}
