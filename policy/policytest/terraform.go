package policytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Terraform returns the path of the terraform binary. Without one the test
// is skipped, or fails when CI=true: CI must run the real thing.
func Terraform(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("terraform is not on PATH, and CI=true: %v", err)
		}
		tb.Skipf("terraform is not on PATH: %v", err)
	}
	return bin
}

// Files are the files of a Terraform configuration, by slash-separated path
// relative to the stack directory.
type Files map[string]string

// Plan returns the plan JSON of config planned from empty state.
func Plan(tb testing.TB, config Files) []byte {
	tb.Helper()
	return PlanAfter(tb, nil, config)
}

// PlanAfter applies applied first, when not nil, then replaces the
// configuration with config and returns its plan JSON: resources in applied
// but not in config are planned for destruction.
func PlanAfter(tb testing.TB, applied, config Files) []byte {
	tb.Helper()
	s := stack{tb: tb, bin: Terraform(tb), dir: tb.TempDir()}
	s.env = env(tb)
	if applied != nil {
		s.write(applied)
		s.run("init", "-input=false")
		s.run("apply", "-input=false", "-auto-approve")
	}
	s.write(config)
	s.run("init", "-input=false")
	s.run("plan", "-input=false", "-out=plan.tfplan")
	return s.run("show", "-json", "plan.tfplan")
}

type stack struct {
	tb  testing.TB
	bin string
	dir string
	env []string
}

// env is the environment of terraform: the test's own without TF_*
// variables, an empty CLI config file and automation mode.
func env(tb testing.TB) []string {
	rc := filepath.Join(tb.TempDir(), "terraformrc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") {
			out = append(out, kv)
		}
	}
	return append(out, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
}

// write replaces the .tf files of the stack with files.
func (s *stack) write(files Files) {
	s.tb.Helper()
	old, _ := filepath.Glob(filepath.Join(s.dir, "*.tf"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			s.tb.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(s.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			s.tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			s.tb.Fatal(err)
		}
	}
}

func (s *stack) run(args ...string) []byte {
	s.tb.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.tb.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}
