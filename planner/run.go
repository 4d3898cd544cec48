package planner

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/strata-iac/strata/internal/atomicfile"
	"github.com/strata-iac/strata/planner/tf"
)

// Plan plans one stack: terraform init (backend configured, plugin cache
// locked when providers may be installed), workspace selection, plan with
// -detailed-exitcode into a plan file, and show -json of that file. The
// result says what the plan would do, carries the plan file, its JSON, its
// text and its checksum, or Terraform's own diagnostics when it failed.
func (r *Runner) Plan(ctx context.Context, job Job) Result {
	return r.do(ctx, job, "plan", func(ctx context.Context, rn *run) {
		if !rn.prepare() || !rn.init(ctx, tf.InitOptions{}) || !rn.selectWorkspace(ctx) {
			return
		}
		rn.plan(ctx)
	})
}

// Apply applies a saved plan of one stack. It first checks that planFile's
// SHA-256 is wantSHA256 and refuses (StatusRefused) when it is not, before
// touching anything. It then restores the provider selections the plan was
// made with, runs init, reads the plan (which also checks that this
// terraform can apply it) and applies exactly that plan file. Terraform
// refusing a stale plan (the state changed since) is reported as refused
// too.
func (r *Runner) Apply(ctx context.Context, job Job, planFile []byte, wantSHA256 string) Result {
	return r.do(ctx, job, "apply", func(ctx context.Context, rn *run) {
		sum := sha256.Sum256(planFile)
		got := hex.EncodeToString(sum[:])
		if wantSHA256 == "" || !strings.EqualFold(got, wantSHA256) {
			rn.res.Status = StatusRefused
			rn.res.Error = fmt.Sprintf("%s: plan file checksum %s does not match the recorded %q; refusing to apply (state untouched)", job.Dir, got, wantSHA256)
			return
		}
		rn.res.PlanSHA256 = got
		if !rn.prepare() {
			return
		}
		if err := rn.restoreLockFile(planFile); err != nil {
			rn.fail("apply", err)
			return
		}
		// Install exactly the providers the plan was made with.
		if !rn.init(ctx, tf.InitOptions{ReadonlyLockfile: true}) || !rn.selectWorkspace(ctx) {
			return
		}
		if err := os.WriteFile(rn.planPath, planFile, 0o600); err != nil {
			rn.fail("apply", err)
			return
		}
		if !rn.show(ctx) {
			return
		}
		rn.apply(ctx)
	})
}

// run is one plan or apply of one stack.
type run struct {
	r   *Runner
	job Job
	op  string
	res *Result
	tf  *tf.Terraform
	// tfOpts are tf's options, for a second terraform at once (shows).
	tfOpts   tf.Options
	stackDir string
	scratch  string
	planPath string
	// backendConfig is the -backend-config file, "" for none.
	backendConfig string
	// initArgs, planArgs and applyArgs are the job's extra arguments,
	// paths made absolute (instance.go).
	initArgs, planArgs, applyArgs []string
	// installs is true when init may install providers.
	installs bool
	log      strings.Builder
	// stackCtx is the run's context, under the per-stack timeout.
	stackCtx context.Context
	// watch reports the run as it goes, from terraform's output.
	watch *Watch
}

// do runs body for job under the per-stack timeout, with progress, timings,
// the log and the scratch directory taken care of.
func (r *Runner) do(ctx context.Context, job Job, op string, body func(context.Context, *run)) Result {
	start := time.Now()
	res := Result{
		Dir:              job.Dir,
		Workspace:        job.Workspace,
		Commit:           job.Commit,
		Inputs:           job.Inputs,
		TerraformVersion: r.bin.Version,
		StartedAt:        start.UTC(),
	}
	if res.Workspace == "" {
		res.Workspace = "default"
	}
	res.Targets, res.Env = job.targets(), shownEnv(job.Env)
	if err := ctx.Err(); err != nil {
		res.Status = StatusError
		res.Error = fmt.Sprintf("not started: %v", err)
		return res
	}
	watch := r.progress.Watch(op, job.Dir, job.Workspace)
	stackCtx, cancel := context.WithTimeout(ctx, r.stackTimeout)
	defer cancel()
	rn := &run{r: r, job: job, op: op, res: &res, stackCtx: stackCtx, watch: watch}
	body(stackCtx, rn)
	if rn.scratch != "" {
		_ = os.RemoveAll(rn.scratch)
	}
	if rn.job.StateDir != "" && rn.stackDir != "" {
		privatize(rn.job.StateDir)
	}
	if res.Status == "" {
		res.Status = StatusError
	}
	res.Log = rn.log.String()
	r.redactResult(&res)
	res.Timings.Total = time.Since(start).Seconds()
	watch.Done(res)
	return res
}

// prepare checks the job, sets up the stack's backend and makes the
// scratch directory.
func (rn *run) prepare() bool {
	if err := rn.setup(); err != nil {
		rn.fail("prepare", err)
		return false
	}
	return true
}

func (rn *run) setup() error {
	job := rn.job
	if job.Dir == "" || !filepath.IsLocal(filepath.FromSlash(job.Dir)) {
		return fmt.Errorf("stack directory %q must be a path inside the repository, relative to its root", job.Dir)
	}
	root, err := filepath.Abs(job.Root)
	if err != nil {
		return err
	}
	rn.stackDir = filepath.Join(root, filepath.FromSlash(job.Dir))
	if fi, err := os.Stat(rn.stackDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("stack directory %s not found in %s", job.Dir, root)
	}
	if err := inside(root, rn.stackDir); err != nil {
		return err
	}
	if err := rn.arguments(root); err != nil {
		return err
	}
	stateDir := job.StateDir
	if stateDir != "" {
		if stateDir, err = filepath.Abs(stateDir); err != nil {
			return err
		}
	}
	sf, err := readStackFiles(rn.stackDir)
	if err != nil {
		return err
	}
	setup, err := setupBackend(sf, job.Backend, job.Dir, job.Workspace, stateDir)
	if err != nil {
		return err
	}
	if err := syncBackendFile(rn.stackDir, setup.file); err != nil {
		return err
	}
	if stateDir != "" {
		if err := privateState(stateDir); err != nil {
			return err
		}
	}
	if rn.scratch, err = os.MkdirTemp(rn.r.tempDir, "strata-run-"); err != nil {
		return err
	}
	if setup.config != nil {
		rn.backendConfig = filepath.Join(rn.scratch, "backend.tfbackend")
		if err := os.WriteFile(rn.backendConfig, setup.config, 0o600); err != nil {
			return err
		}
	}
	rn.planPath = filepath.Join(rn.scratch, "plan.tfplan")
	rn.installs = installsProviders(rn.stackDir)
	env := rn.env()
	rn.tfOpts = tf.Options{
		Dir:     rn.stackDir,
		Env:     env,
		Grace:   rn.r.grace,
		Log:     &rn.log,
		Live:    liveWriter(rn.stackCtx, job.Dir, job.Workspace),
		Observe: rn.watch.Line,
		Sandbox: rn.r.sandbox,
		Mounts:  rn.mounts(root, stateDir, env),
	}
	rn.tf = tf.New(rn.r.bin, rn.tfOpts)
	return nil
}

// check records the diagnostics of a command that prints text (errors on
// stderr, warnings on stdout) and reports whether it succeeded (exit code
// 0, or one of ok). On failure the result is an error.
func (rn *run) check(phase string, out tf.Output, err error, ok ...int) bool {
	_, warnings := tf.SplitDiagnostics(strings.ReplaceAll(string(out.Stdout), "Terraform has been successfully initialized!", ""))
	_, errs := tf.SplitDiagnostics(string(out.Stderr))
	return rn.judge(phase, out, err, append(errs, warnings...), ok...)
}

// checkJSON is check for a command run with -json: the diagnostics come
// from its machine-readable UI (and from stderr, where a terraform that
// fails before its UI starts writes text).
func (rn *run) checkJSON(phase string, out tf.Output, err error, ok ...int) (tf.UI, bool) {
	ui := tf.ReadJSONUI(out.Stdout)
	_, early := tf.SplitDiagnostics(string(out.Stderr))
	return ui, rn.judge(phase, out, err, append(ui.Diagnostics, early...), ok...)
}

// judge records diags and reports whether the command succeeded.
func (rn *run) judge(phase string, out tf.Output, err error, diags []tf.Diagnostic, ok ...int) bool {
	rn.res.Diagnostics = append(rn.res.Diagnostics, diags...)
	if err == nil && (out.Code == 0 || slices.Contains(ok, out.Code)) {
		return true
	}
	if err != nil {
		rn.fail(phase, err)
		return false
	}
	msg := tf.ErrorLine(diags)
	if msg == "" {
		msg = lastLine(string(out.Stderr))
	}
	if msg == "" {
		msg = fmt.Sprintf("terraform %s exited with status %d", phase, out.Code)
	}
	rn.res.Status = StatusError
	rn.res.Error = phase + ": " + msg
	return false
}

// fail records a run that could not go on: a per-stack timeout, a
// cancellation, or anything else that went wrong around terraform.
func (rn *run) fail(phase string, err error) {
	rn.res.Status = StatusError
	switch {
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(rn.stackCtx.Err(), context.DeadlineExceeded):
		rn.res.Error = fmt.Sprintf("%s: timed out after %s; terraform was interrupted", phase, rn.r.stackTimeout)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		rn.res.Error = fmt.Sprintf("%s: cancelled (%v); terraform was interrupted", phase, err)
	default:
		rn.res.Error = phase + ": " + err.Error()
	}
}

// init runs terraform init, holding the plugin cache lock when it may
// install providers.
func (rn *run) init(ctx context.Context, opts tf.InitOptions) bool {
	start := time.Now()
	defer func() { rn.res.Timings.Init += time.Since(start).Seconds() }()
	opts.BackendConfig = rn.backendConfig
	opts.Extra = rn.initArgs
	if rn.installs {
		unlock, err := rn.r.plugins.Lock(ctx)
		if err != nil {
			rn.fail("init", fmt.Errorf("plugin cache lock: %w", err))
			return false
		}
		defer unlock()
		opts.Writable = []string{rn.r.plugins.Dir}
	}
	out, err := rn.tf.Init(ctx, opts)
	if rn.tf.InitJSON() {
		_, ok := rn.checkJSON("init", out, err)
		return ok
	}
	return rn.check("init", out, err)
}

// selectWorkspace selects the job's workspace, creating it if needed.
func (rn *run) selectWorkspace(ctx context.Context) bool {
	ws := rn.job.Workspace
	if ws == "" || ws == "default" {
		return true
	}
	start := time.Now()
	defer func() { rn.res.Timings.Init += time.Since(start).Seconds() }()
	out, err := rn.tf.WorkspaceSelect(ctx, ws)
	return rn.check("workspace", out, err)
}

// plan runs terraform plan -json into the plan file, then reads it back
// (shows).
func (rn *run) plan(ctx context.Context) {
	start := time.Now()
	out, err := rn.tf.Plan(ctx, tf.PlanOptions{Out: rn.planPath, LockTimeout: rn.r.lockTimeout, RefreshOnly: rn.job.RefreshOnly, Extra: rn.planArgs})
	rn.res.Timings.Plan = time.Since(start).Seconds()
	ui, ok := rn.checkJSON("plan", out, err, 2)
	if !ok {
		return
	}
	planFile, err := os.ReadFile(rn.planPath)
	if err != nil {
		rn.fail("plan", err)
		return
	}
	sum := sha256.Sum256(planFile)
	rn.res.PlanFile = planFile
	rn.res.PlanSHA256 = hex.EncodeToString(sum[:])
	if !rn.shows(ctx, ui, out.Code == 2) {
		return
	}
	rn.res.Status = StatusNoChanges
	if out.Code == 2 {
		rn.res.Status = StatusChanges
	}
}

// show reads the plan file as JSON and summarises it.
func (rn *run) show(ctx context.Context) bool {
	start := time.Now()
	out, err := rn.tf.ShowPlanJSON(ctx, rn.planPath)
	rn.res.Timings.Show = time.Since(start).Seconds()
	if !rn.check("show", out, err) {
		return false
	}
	p, err := parsePlanJSON(out.Stdout)
	if err != nil {
		rn.fail("show", err)
		return false
	}
	rn.res.PlanJSON = out.Stdout
	rn.res.Counts, rn.res.Changes, rn.res.Drift = summarize(p)
	return true
}

// apply applies the plan file.
func (rn *run) apply(ctx context.Context) {
	start := time.Now()
	out, err := rn.tf.Apply(ctx, tf.ApplyOptions{PlanFile: rn.planPath, LockTimeout: rn.r.lockTimeout, Extra: rn.applyArgs})
	rn.res.Timings.Apply = time.Since(start).Seconds()
	ui, ok := rn.checkJSON("apply", out, err)
	rn.res.ApplyText = ui.Text
	if !ok {
		if err != nil && ctx.Err() != nil {
			// Cut short: say what terraform left behind, and release the
			// state lock it held if it could not.
			rn.res.Interrupted = rn.settle(start, ui.Text, 0) // terraform has exited
			rn.res.Error += "; " + rn.res.Interrupted.describe()
			return
		}
		for _, d := range rn.res.Diagnostics {
			if d.Severity == "error" && (d.Summary == "Saved plan is stale" || d.Summary == "Saved plan does not match the given state") {
				rn.res.Status = StatusRefused
			}
		}
		return
	}
	rn.res.Status = StatusApplied
}

// restoreLockFile writes the dependency lock file recorded in the plan file
// into the stack, so init selects exactly the providers the plan was made
// with.
func (rn *run) restoreLockFile(planFile []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(planFile), int64(len(planFile)))
	if err != nil {
		return fmt.Errorf("read plan file: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != ".terraform.lock.hcl" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("read plan file: %w", err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return fmt.Errorf("read plan file: %w", err)
		}
		// Through a rename: a lock file the commit holds as a symlink is
		// replaced, never followed.
		return atomicfile.Write(filepath.Join(rn.stackDir, ".terraform.lock.hcl"), data, 0o644)
	}
	return nil
}

// lastLine returns the last non-blank line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
