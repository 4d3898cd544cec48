package ci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
)

// TestGitLabReport: the report sums the stacks in the three keys GitLab
// requires (and only those), a replace counting as a create and a delete.
func TestGitLabReport(t *testing.T) {
	sum := planner.Summary{Stacks: []planner.Result{
		{Dir: "live/prod/network", Status: planner.StatusChanges, Counts: planner.Counts{Create: 2, Update: 1, Replace: 1}},
		{Dir: "live/prod/app", Status: planner.StatusChanges, Counts: planner.Counts{Delete: 3, Update: 2}},
		{Dir: "live/prod/dns", Status: planner.StatusNoChanges},
		{Dir: "live/prod/db", Status: planner.StatusLocked},
	}}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteGitLabReport(path, sum); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not JSON: %s", data)
	}
	if want := map[string]any{"create": 3.0, "update": 3.0, "delete": 4.0}; !reflect.DeepEqual(got, want) {
		t.Errorf("report %s, want %v", data, want)
	}
	if err := WriteGitLabReport(filepath.Join(t.TempDir(), "no", "such", "dir.json"), sum); err == nil {
		t.Error("a report in a missing directory is no error")
	}
}

func TestUnshared(t *testing.T) {
	if w := Unshared("dynamodb://strata-locks", "s3://acme/strata"); len(w) != 0 {
		t.Errorf("DynamoDB and S3: %q", w)
	}
	w := Unshared("bolt:///var/lib/strata/locks.db", "/var/lib/strata/store")
	if len(w) != 2 || !strings.Contains(w[0], "dynamodb://TABLE") || !strings.Contains(w[1], "s3://BUCKET/PREFIX") {
		t.Errorf("local locks and store: %q", w)
	}
	if w := Unshared("locks.db", "file:///tmp/store"); len(w) != 2 {
		t.Errorf("a path and file://: %q", w)
	}
}

func TestWithout(t *testing.T) {
	env := []string{"PATH=/bin", "GITHUB_TOKEN=ghs_x", "GITHUB_TOKEN_OTHER=1", "HOME=/root"}
	if got := without(env, "GITHUB_TOKEN"); !reflect.DeepEqual(got, []string{"PATH=/bin", "GITHUB_TOKEN_OTHER=1", "HOME=/root"}) {
		t.Errorf("without = %q", got)
	}
}
