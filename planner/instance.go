package planner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strata-iac/strata/planner/tf"
)

// arguments turns the job's var files, extra arguments and targets into
// the arguments of init, plan and apply, every -var-file path made
// absolute under root. A var file that is not in the commit is an error
// naming it.
func (rn *run) arguments(root string) error {
	job := rn.job
	file := func(rel, where string) (string, error) {
		abs := filepath.Join(root, filepath.FromSlash(rel))
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
			return "", fmt.Errorf("var file %s is not in commit %s: add it, or change %s of %s in strata.yaml", rel, short(job.Commit), where, job.Dir)
		}
		return abs, nil
	}
	extra := func(args []string) ([]string, error) {
		out := make([]string, 0, len(args))
		for _, a := range args {
			if rel, ok := strings.CutPrefix(a, "-var-file="); ok {
				abs, err := file(rel, "extra_args")
				if err != nil {
					return nil, err
				}
				a = "-var-file=" + abs
			}
			out = append(out, a)
		}
		return out, nil
	}
	rn.planArgs = nil
	for _, vf := range job.VarFiles {
		abs, err := file(vf, "var_files")
		if err != nil {
			return err
		}
		rn.planArgs = append(rn.planArgs, "-var-file="+abs)
	}
	var err error
	if rn.initArgs, err = extra(job.ExtraArgs.Init); err != nil {
		return err
	}
	plan, err := extra(job.ExtraArgs.Plan)
	if err != nil {
		return err
	}
	rn.planArgs = append(rn.planArgs, plan...)
	for _, t := range job.Targets {
		rn.planArgs = append(rn.planArgs, "-target="+t)
	}
	rn.applyArgs = job.ExtraArgs.Apply
	return nil
}

// targets lists every -target of the job's plan: strata.yaml's and those
// asked for (a comment's). A plan with any is partial.
func (j Job) targets() []string {
	var out []string
	for _, a := range j.ExtraArgs.Plan {
		if t, ok := strings.CutPrefix(a, "-target="); ok {
			out = append(out, t)
		}
	}
	return append(out, j.Targets...)
}

// envList renders env as KEY=VALUE entries, sorted.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// secretName matches environment variable names that look like they hold
// a secret.
var secretName = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH)`)

// shownEnv is env as summaries and run records show it: strata.yaml's env
// is meant for values that are not secret, but one whose name looks like
// a secret's is masked all the same.
func shownEnv(env map[string]string) map[string]string {
	if len(env) == 0 {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		if secretName.MatchString(k) {
			v = "(masked)"
		}
		out[k] = v
	}
	return out
}

// shows reads the plan file back: show -json for the counts and the plan
// JSON, and show for the plan's text, exactly as terraform prints it for
// people. Each loads the providers' schemas, so for a plan with changes
// (changes: plan exited 2) they run at once: the text costs no wall time
// where a core is free. A plan that changes nothing and saw nothing change
// outside Terraform shows nothing: its text is the summary line of the
// machine-readable UI, which spares the process.
func (rn *run) shows(ctx context.Context, ui tf.UI, changes bool) bool {
	if !changes {
		if !rn.show(ctx) {
			return false
		}
		if !rn.res.Counts.Changed() && rn.res.Counts.Drift == 0 && len(rn.res.Drift) == 0 {
			rn.res.PlanText = ui.Summary + "\n"
			return true
		}
		start := time.Now()
		out, err := rn.tf.ShowPlan(ctx, rn.planPath)
		rn.res.Timings.Show += time.Since(start).Seconds()
		return rn.planText(out, err)
	}
	var log strings.Builder
	opts := rn.tfOpts
	opts.Log = &log
	var out tf.Output
	var err error
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { out, err = tf.New(rn.r.bin, opts).ShowPlan(ctx, rn.planPath) })
	ok := rn.show(ctx)
	wg.Wait()
	rn.res.Timings.Show = time.Since(start).Seconds()
	rn.log.WriteString(log.String())
	return ok && rn.planText(out, err)
}

// planText records what terraform show printed as the plan's text.
func (rn *run) planText(out tf.Output, err error) bool {
	if !rn.check("show", out, err) {
		return false
	}
	rn.res.PlanText = strings.Trim(string(out.Stdout), "\n") + "\n"
	return true
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
