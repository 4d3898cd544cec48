package planner

import (
	"fmt"
	"testing"

	"github.com/strata-iac/strata/planner/tf"
)

func TestStackConstraints(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"live/prod/network/main.tf": `module "vpc" {
  source = "../../../modules/vpc"
}
`,
		"live/prod/network/versions.tf": `
terraform {
  required_version = ">= 1.12"
}
`,
		"live/prod/app/main.tf.json": `{"terraform": {"required_version": "< 2.0"}, "module": {"vpc": {"source": "../../../modules/vpc"}}}`,
		"modules/vpc/main.tf":        "terraform {\n  required_version = \">= 1.5\"\n}\n",
	})
	got, err := StackConstraints(root, []string{"live/prod/network", "live/prod/app"})
	if err != nil {
		t.Fatal(err)
	}
	want := []tf.Constraint{
		{Expr: ">= 1.12", Source: "live/prod/network/versions.tf:3"},
		{Expr: ">= 1.5", Source: "modules/vpc/main.tf:2"},
		{Expr: "< 2.0", Source: "live/prod/app/main.tf.json:1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// TestStackConstraintsStayInTheTree calls a "module" outside the tree (as
// another run's workspace would be): strata reads nothing there.
func TestStackConstraintsStayInTheTree(t *testing.T) {
	parent := t.TempDir()
	writeFiles(t, parent, map[string]string{
		"src/live/a/main.tf":     "module \"x\" {\n  source = \"../../../other/live/b\"\n}\n",
		"other/live/b/main.tf":   "terraform {\n  required_version = \"= 0.0.1-another-run\"\n}\n",
		"src/live/a/versions.tf": "terraform {\n  required_version = \">= 1.5\"\n}\n",
	})
	got, err := StackConstraints(parent+"/src", []string{"live/a"})
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]tf.Constraint{{Expr: ">= 1.5", Source: "live/a/versions.tf:2"}}) {
		t.Errorf("got %v, %v; want only the tree's own constraint", got, err)
	}
}
