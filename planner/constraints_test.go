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
