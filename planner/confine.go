package planner

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-iac/strata/planner/tf"
)

// What a run of a stack may reach (DESIGN.md §11): its sandbox shows the
// commit's tree read-only, the stack's own directory, the run's scratch
// directory and the stack's local state read-write, and what every run of
// the Runner shares (the plugin cache and the CLI config read-only, the
// operator's filesystem mirrors, the credential files terraform's
// environment names). Nothing else of the data dir: no other workspace,
// run or stack's state, no lock, queue, store or mirror.

// env is terraform's environment for the run: the Runner's, with the
// variables of its operation (PlanEnv, ApplyEnv) set over it.
func (rn *run) env() []string {
	overlay := rn.r.planEnv
	if rn.op == "apply" {
		overlay = rn.r.applyEnv
	}
	env := tf.Overlay(tf.Overlay(rn.r.env, envList(rn.job.Env)), overlay)
	return append(env[:len(env):len(env)], "TF_DATA_DIR="+filepath.Join(rn.scratch, "data"))
}

// mounts is what the run's terraform sees in the sandbox.
func (rn *run) mounts(root, stateDir string, env []string) tf.Mounts {
	rw := []string{rn.stackDir, rn.scratch}
	if stateDir != "" {
		rw = append(rw, stateDir)
	}
	return rn.r.mounts.With(tf.Mounts{ReadOnly: []string{root}, ReadWrite: rw, Optional: tf.CredentialFiles(env)})
}

// inside checks that the stack's directory, symlinks resolved, is inside
// the commit's tree: the sandbox shows it read-write, and a tree whose
// directory led elsewhere would show that instead.
func inside(root, dir string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(realRoot, realDir); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("stack directory %s leads outside the repository (to %s)", dir, realDir)
	}
	return nil
}

// privateState makes the stack's state directory 0700 whatever its mode
// was (Session.workspace does DATA_DIR/state itself), so only strata's
// user reads state.
func privateState(stateDir string) error {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if err := os.Chmod(stateDir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	return nil
}

// privatize makes everything under dir 0700 (directories) and 0600
// (files): terraform writes terraform.tfstate and its backups 0644.
func privatize(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if d.IsDir() {
			_ = os.Chmod(p, 0o700)
		} else {
			_ = os.Chmod(p, 0o600)
		}
		return nil
	})
}

// redactResult masks the Runner's secrets in everything a result carries
// out of strata: texts, diagnostics, addresses, the plan JSON.
func (r *Runner) redactResult(res *Result) {
	red := r.redactor
	if red.Len() == 0 {
		return
	}
	res.Error = red.String(res.Error)
	res.PlanText = red.String(res.PlanText)
	res.ApplyText = red.String(res.ApplyText)
	res.Log = red.String(res.Log)
	res.PlanJSON = red.Bytes(res.PlanJSON)
	for i := range res.Diagnostics {
		d := &res.Diagnostics[i]
		d.Summary, d.Detail, d.Range = red.String(d.Summary), red.String(d.Detail), red.String(d.Range)
	}
	for _, list := range [][]ResourceChange{res.Changes, res.Drift} {
		for i := range list {
			list[i].Address, list[i].MovedFrom = red.String(list[i].Address), red.String(list[i].MovedFrom)
		}
	}
}
