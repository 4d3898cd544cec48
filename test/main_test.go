package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/motoserver"
)

var binPath string

// TestMain builds ./cmd/strata once for every test of the package, then
// runs them under motoserver.Main (an isolated AWS environment and a
// shared moto_server, started by the first test that asks for it).
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "strata-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", binPath, "./cmd/strata")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build strata: %v\n%s", err, out)
		return 1
	}
	return motoserver.Main(m)
}

// strataBin is the path of the strata binary built for this test run.
func strataBin() string { return binPath }

// result is what one strata process did.
type result struct {
	stdout, stderr string
	code           int
}

// runStrata runs strata with args in the test's environment plus env
// ("NAME=value" entries) and returns its output and exit code. It fails the
// test when the process cannot run or takes more than three minutes (a
// stack with a real provider loads its schema in plan, show -json and
// show, which a loaded machine makes slow).
func runStrata(t testing.TB, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin(), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("strata %q: %v (%v)\nstderr: %s", args, err, ctx.Err(), stderr.String())
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}
