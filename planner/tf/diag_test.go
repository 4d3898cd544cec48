package tf

import (
	"reflect"
	"testing"
)

func TestSplitDiagnostics(t *testing.T) {
	// terraform init's stderr for a file with a missing brace.
	initStderr := `
Error: Terraform encountered problems during initialisation, including problems
with the configuration, described below.

The Terraform configuration must be valid before initialization so that
Terraform can determine which modules and providers need to be installed.


Error: Unclosed configuration block

  on main.tf line 4, in resource "terraform_data" "x":
   4: foo {

There is no closing brace for this block before the end of the file. This may
be caused by incorrect brace nesting elsewhere in this file.
`
	rest, diags := SplitDiagnostics(initStderr)
	want := []Diagnostic{
		{Severity: "error", Summary: "Terraform encountered problems during initialisation, including problems with the configuration, described below.",
			Detail: "The Terraform configuration must be valid before initialization so that\nTerraform can determine which modules and providers need to be installed."},
		{Severity: "error", Summary: "Unclosed configuration block", Range: "main.tf:4",
			Detail: "There is no closing brace for this block before the end of the file. This may\nbe caused by incorrect brace nesting elsewhere in this file."},
	}
	if !reflect.DeepEqual(diags, want) {
		t.Errorf("got  %#v\nwant %#v", diags, want)
	}
	if rest != "" {
		t.Errorf("rest = %q", rest)
	}
	if got := ErrorLine(diags); got != "main.tf:4: Unclosed configuration block: There is no closing brace for this block before the end of the file." {
		t.Errorf("oneLine = %q", got)
	}

	// A plan's stdout: the plan, then its diagnostics.
	planStdout := `terraform_data.x: Refreshing state... [id=e3b3b36c]
data.terraform_remote_state.y: Reading...
data.terraform_remote_state.y: Read complete after 0s

Terraform will perform the following actions:

  # terraform_data.x will be updated in-place
  ~ resource "terraform_data" "x" {
      ~ input  = "a" -> "b"
    }

Plan: 0 to add, 1 to change, 0 to destroy.

Warning: Value for undeclared variable

The root module does not declare a variable named "nothere" but a value was
found in file "terraform.tfvars".

Warning: Argument is deprecated

  on main.tf line 7, in resource "terraform_data" "x":
   7:   old = var.x
    ├────────────────
    │ var.x is "a"

Use new instead.

Error: local-exec provisioner error

  with terraform_data.slow,
  on main.tf line 3, in resource "terraform_data" "slow":
   3:   provisioner "local-exec" {

Error running command 'sleep 30': signal: killed. Output:
`
	rest, diags = SplitDiagnostics(planStdout)
	want = []Diagnostic{
		{Severity: "warning", Summary: "Value for undeclared variable",
			Detail: "The root module does not declare a variable named \"nothere\" but a value was\nfound in file \"terraform.tfvars\"."},
		{Severity: "warning", Summary: "Argument is deprecated", Range: "main.tf:7", Detail: "Use new instead."},
		{Severity: "error", Summary: "local-exec provisioner error", Range: "main.tf:3", Detail: "Error running command 'sleep 30': signal: killed. Output:"},
	}
	if !reflect.DeepEqual(diags, want) {
		t.Errorf("got  %#v\nwant %#v", diags, want)
	}
	if got := ErrorLine(diags[:2]); got != "" {
		t.Errorf("oneLine of warnings = %q, want empty", got)
	}
}

func TestFirstSentence(t *testing.T) {
	long := ""
	for range 30 {
		long += "word éé "
	}
	for in, want := range map[string]string{
		"":                                   "",
		"One line, no stop":                  "One line, no stop",
		"First. Second.":                     "First.",
		"Wrapped\nsentence. Next\n\nPara 2.": "Wrapped sentence.",
		long:                                 string([]rune(long)[:197]) + "...",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
