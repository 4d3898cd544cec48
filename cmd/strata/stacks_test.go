package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

// runChanged runs strata changed through cobra and returns its stdout,
// stderr and error.
func runChanged(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"changed"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestChangedReportsStackThatBecameModule(t *testing.T) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"live/app/main.tf":  `module "net" { source = "../net" }`,
		"live/net/main.tf":  `resource "terraform_data" "net" {}`,
		"live/jobs/main.tf": `resource "terraform_data" "jobs" {}`,
	})
	g.Commit("initial")
	g.Git("checkout", "-q", "-b", "change")
	g.Write(map[string]string{"live/app/main.tf": `module "net" { source = "../net" }` + "\n" + `module "jobs" { source = "../jobs" }`})
	g.Commit("app calls jobs")

	out, stderr, err := runChanged(t, "--repo", g.Dir, "--base", "main", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var cs map[string]any
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, key := range []string{"base", "head", "stacks", "deleted", "warnings"} {
		if _, ok := cs[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, out)
		}
	}
	if !reflect.DeepEqual(cs["became_module"], []any{"live/jobs"}) || !reflect.DeepEqual(cs["deleted"], []any{}) {
		t.Errorf("became_module = %v, deleted = %v", cs["became_module"], cs["deleted"])
	}
	if !strings.Contains(stderr, "warning: live/jobs was a stack at the merge base and is a module now") {
		t.Errorf("stderr = %q, want the warning that its state still exists", stderr)
	}

	out, _, err = runChanged(t, "--repo", g.Dir, "--base", "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "live/app") || !strings.Contains(out, "live/jobs") || !strings.Contains(out, "became a module: not planned on its own") {
		t.Errorf("text output = %q", out)
	}
}
