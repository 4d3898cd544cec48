package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/policy"
	"github.com/strata-iac/strata/policy/policytest"
)

// runPolicyCLI runs strata with args through cobra and returns its exit
// code, stdout and the error it would print.
func runPolicyCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return exitCode(err), out.String(), msg
}

func writePolicyFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyTestCommand(t *testing.T) {
	planJSON := policytest.PlanAfter(t,
		policytest.Files{"main.tf": `resource "terraform_data" "db" {
  input = { tags = { protected = "true" } }
}
`},
		policytest.Files{"main.tf": `resource "terraform_data" "web" {
  input = "v1"
}
`})
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(planFile, planJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(dir, "state.json")
	if err := os.WriteFile(stateFile, []byte(`{"format_version":"1.0","terraform_version":"1.11.4","values":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	warnOnly := filepath.Join(dir, "warn")
	writePolicyFile(t, warnOnly, "warn.rego", `package main

warn contains sprintf("%s is created", [rc.address]) if {
	some rc in input.resource_changes
	rc.change.actions == ["create"]
}

deny contains "never" if false
`)
	denies := filepath.Join(dir, "deny")
	writePolicyFile(t, denies, "protected.rego", `package main

deny[msg] {
	rc := input.resource_changes[_]
	rc.change.actions[_] == "delete"
	rc.change.before.input.tags.protected == "true"
	msg := sprintf("%s is protected", [rc.address])
}
`)
	broken := filepath.Join(dir, "broken")
	writePolicyFile(t, broken, "ok.rego", "package main\n\ndeny contains \"x\" if false\n")
	writePolicyFile(t, broken, "bad.rego", "package main\n\ndeny contains msg if {\n\tmsg := sprintf(\"%s\", [\n}\n")

	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string
		errText []string
	}{
		{"warnings pass", []string{"--policy", warnOnly}, 0,
			[]string{"WARN main.warn (", "warn.rego:3): terraform_data.web is created", "warn: 2 rules, 0 failures, 1 warning"}, nil},
		{"deny fails with 2", []string{"--policy", denies}, 2,
			[]string{"FAIL main.deny (", "protected.rego:3): terraform_data.db is protected", "fail: 1 rule, 1 failure, 0 warnings"}, nil},
		{"several policy paths", []string{"--policy", denies, "--policy", warnOnly}, 2,
			[]string{"FAIL main.deny", "WARN main.warn"}, nil},
		{"broken policy is 1 with file:line", []string{"--policy", broken}, 1, nil,
			[]string{"bad.rego:5", "rego_parse_error"}},
		{"state JSON is not a plan", []string{"--policy", denies, "--plan-json", stateFile}, 1, nil,
			[]string{stateFile + " is not a Terraform plan JSON"}},
		{"missing plan file", []string{"--policy", denies, "--plan-json", filepath.Join(dir, "nope.json")}, 1, nil,
			[]string{"nope.json"}},
		{"empty policy dir", []string{"--policy", t.TempDir()}, 1, nil, []string{"no policies"}},
		{"bad format", []string{"--policy", denies, "--format", "yaml"}, 1, nil, []string{"--format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"policy", "test"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--plan-json") {
				args = append(args, "--plan-json", planFile)
			}
			code, stdout, errText := runPolicyCLI(t, args...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nerror: %s", code, tt.code, stdout, errText)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not contain %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.errText {
				if !strings.Contains(errText, w) {
					t.Errorf("error does not contain %q: %s", w, errText)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		code, stdout, errText := runPolicyCLI(t, "policy", "test", "--policy", denies, "--plan-json", planFile, "--format", "json")
		if code != 2 {
			t.Fatalf("exit code = %d, want 2 (%s)", code, errText)
		}
		var got struct {
			PlanJSON string           `json:"plan_json"`
			Policy   []string         `json:"policy"`
			Outcome  policy.Outcome   `json:"outcome"`
			Failures []policy.Message `json:"failures"`
			Warnings []policy.Message `json:"warnings"`
			Rules    int              `json:"rules"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
		if got.PlanJSON != planFile || len(got.Policy) != 1 || got.Outcome != policy.Fail || got.Rules != 1 ||
			len(got.Failures) != 1 || got.Failures[0].Msg != "terraform_data.db is protected" || got.Warnings == nil {
			t.Errorf("JSON output = %+v", got)
		}
	})

	t.Run("flags required", func(t *testing.T) {
		if code, _, errText := runPolicyCLI(t, "policy", "test", "--plan-json", planFile); code != 1 || !strings.Contains(errText, "policy") {
			t.Errorf("without --policy: exit %d, error %q", code, errText)
		}
	})
}
