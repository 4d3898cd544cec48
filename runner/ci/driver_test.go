package ci

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/store"
)

// driverFor is a Driver for job on a real clone, the fake GitLab, bbolt
// locks and a local store. Nothing here starts terraform.
func driverFor(t *testing.T, gl *fakegitlab.Server, repo *gittest.Repo, job *Job) (*Driver, lock.Locker) {
	t.Helper()
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
	job.Forge, job.System, job.API, job.Token, job.Repo, job.ID = "gitlab", "GitLab CI", gl.URL, gl.Token, "acme/infra", "7"
	job.URL = "https://gitlab.example.com/acme/infra/-/jobs/7"
	f, err := OpenForge(job, redact.New(gl.Token), log)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Job: job, Forge: f, Locks: locks, Store: st, Repo: repo.Dir, DataDir: dir, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return d, locks
}

// TestDriverRefusesWhatItCannotDo: plan outside a merge request pipeline,
// apply outside a branch or merge request pipeline, and apply of a
// commit that merged nothing, or merged into another branch, are one-line
// errors that say what to do.
func TestDriverRefusesWhatItCannotDo(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	repo := gittest.New(t)
	repo.Write(map[string]string{"live/app/main.tf": "# app\n"})
	pushed := repo.Commit("pushed to main")
	gl.AddMergeRequest("acme/infra", fakegitlab.MergeRequest{IID: 3, State: "merged", TargetBranch: "release",
		SHA: fakegitlab.SHA("head"), MergeCommitSHA: fakegitlab.SHA("merge into release")})
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		job  Job
		run  func(*Driver) error
		want string
	}{
		{"plan in a branch pipeline", Job{Commit: pushed, Branch: "main"},
			func(d *Driver) error { _, err := d.Plan(ctx); return err }, "this GitLab CI pipeline runs for branch main, not for one"},
		{"apply for a tag", Job{Commit: pushed},
			func(d *Driver) error { _, err := d.Apply(ctx); return err }, "runs for commit " + pushed[:12]},
		{"apply of a direct push", Job{Commit: pushed, Branch: "main"},
			func(d *Driver) error { _, err := d.Apply(ctx); return err }, "commit " + pushed[:12] + " on main merged no merge request"},
		{"apply in another branch", Job{Commit: fakegitlab.SHA("merge into release"), Branch: "main"},
			func(d *Driver) error { _, err := d.Apply(ctx); return err }, "merged !3 into release, not into main"},
	} {
		d, _ := driverFor(t, gl, repo, &tc.job)
		err := tc.run(d)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line saying %q", tc.name, err, tc.want)
		}
	}
}

// TestPlanSweepsClosedMergeRequests: before planning, the locks of merge
// requests closed unmerged are released; a merged one (its apply job not
// run yet) and an open one keep theirs.
func TestPlanSweepsClosedMergeRequests(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	repo := gittest.New(t)
	repo.Write(map[string]string{"live/app/main.tf": "# app\n"})
	base := repo.Commit("main")
	repo.Write(map[string]string{"README.md": "# docs only\n"})
	head := repo.Commit("docs")
	for iid, state := range map[int64]string{1: "closed", 2: "merged", 3: "opened"} {
		gl.AddMergeRequest("acme/infra", fakegitlab.MergeRequest{IID: iid, State: state})
	}
	gl.AddMergeRequest("acme/infra", fakegitlab.MergeRequest{IID: 4, SHA: head})
	d, locks := driverFor(t, gl, repo, &Job{Commit: head, User: "alice",
		MR: &MergeRequest{Number: 4, Head: head, TargetBranch: "main", TargetSHA: base}})
	ctx := context.Background()
	for _, owner := range []string{"gitlab/acme/infra!1", "gitlab/acme/infra!2", "gitlab/acme/infra!3", "gitlab/other/repo!1", "alice"} {
		if _, err := locks.Acquire(ctx, "key of "+owner, lock.Owner{ID: owner}); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := d.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Stacks) != 0 {
		t.Errorf("a change to docs planned %d stacks", len(sum.Stacks))
	}
	ls, err := locks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, l := range ls {
		owners = append(owners, l.Owner)
	}
	if strings.Join(owners, " ") != "alice gitlab/acme/infra!2 gitlab/acme/infra!3 gitlab/other/repo!1" {
		t.Errorf("lock owners after the plan: %q; want all but !1 (closed)", owners)
	}
	if n, ok := noteOf(gl, 4); !ok || !strings.Contains(n, "Run by [GitLab CI job 7]") {
		t.Errorf("note of !4:\n%s", n)
	}
}

func noteOf(gl *fakegitlab.Server, iid int64) (string, bool) {
	for _, n := range gl.Notes("acme/infra", iid) {
		if strings.Contains(n.Body, "<!-- strata:mr -->") {
			return n.Body, true
		}
	}
	return "", false
}
