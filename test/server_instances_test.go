package test

import (
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// TestServerPlansTheInstanceOfAVarFile: a merge request that changes
// env/prod.tfvars plans and locks live/app@prod alone, and the note names
// it; `strata plan -s live/app@dev -- -target=…` adds a partial plan of
// live/app@dev, which the merge does not apply while it applies the rest.
func TestServerPlansTheInstanceOfAVarFile(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	files := maps.Clone(appModule)
	files["strata.yaml"] = instancesYAML
	rem := newRemote(t, files)
	const repo = "acme/envs"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data)
	locksURL := "bolt://" + data + "/locks.db"

	sha := rem.branch("bigger-prod", map[string]string{"env/prod.tfvars": `size = "huge"`})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "bigger-prod", SHA: sha, ApprovedBy: []string{"bob"}})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "alice"))
	srv.eventually("the plan of live/app@prod", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "success") && noteContains(gl, repo, 1, "| `live/app@prod` | 📝 changes |")
	})
	if n, _ := mainNote(gl, repo, 1); strings.Contains(n.Body, "live/app@dev") {
		t.Fatalf("the note names live/app@dev, which the change does not touch:\n%s", n.Body)
	}
	if keys := locksOf(t, locksURL, "gitlab/acme/envs!1"); strings.Join(keys, ",") != "gitlab/acme/envs/live/app/prod" {
		t.Fatalf("!1 holds %q, want the lock of live/app@prod alone", keys)
	}
	for stack, want := range map[string]string{"live/app@prod": `"key": "gitlab/acme/envs/live/app/prod"`, "live/app@dev": "[]", "live/app": `"owner": "gitlab/acme/envs!1"`} {
		if r := runStrata(t, nil, "locks", "list", "--locks", locksURL, "--stack", stack, "--format", "json"); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("locks list --stack %s: exit %d\n%s%s\nwant %s", stack, r.code, r.stdout, r.stderr, want)
		}
	}

	srv.deliver(gl.Comment(repo, 1, "alice", "strata plan -s live/app@dev -- -target=terraform_data.extra"))
	srv.eventually("the partial plan of live/app@dev", func() bool {
		return noteContains(gl, repo, 1, "| `live/app@dev` | 📝 changes (partial plan) |", "`-target=terraform_data.extra`", "| `live/app@prod` | 📝 changes |")
	})

	merge := rem.merge("bigger-prod")
	gl.UpdateMergeRequest(repo, 1, func(mr *fakegitlab.MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", merge })
	srv.deliver(gl.MergeRequestHook(repo, 1, "merge", "bob"))
	srv.eventually("the apply on merge", func() bool { return statusIs(gl, repo, sha, "strata/apply", "failed") })
	if n, _ := mainNote(gl, repo, 1); !strings.Contains(n.Body, "| `live/app@prod` | ✅ applied |") || !strings.Contains(n.Body, "| `live/app@dev` | ⛔ refused |") ||
		!strings.Contains(n.Body, `partial plan (-target=terraform\_data.extra)`) {
		t.Errorf("the note after the merge does not show live/app@prod applied and the partial plan refused, saying why:\n%s", n.Body)
	}
	states := map[string]bool{}
	filepath.WalkDir(filepath.Join(data, "state"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "terraform.tfstate" {
			states[filepath.Base(filepath.Dir(p))] = true
		}
		return nil
	})
	if !states["prod"] || states["dev"] {
		t.Errorf("state files of workspaces %v, want prod's alone: the partial plan must not be applied on merge", states)
	}
}
