package planner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/stacks"
)

// Job is one stack to plan or apply.
type Job struct {
	// Dir is the stack's repo-relative directory, "/"-separated.
	Dir string
	// Workspace is the terraform workspace; "" is the default one.
	Workspace string
	// Root is the absolute path of the directory holding the commit's tree.
	Root string
	// Commit is the commit Root holds, copied into the result.
	Commit string
	// Inputs is copied into Result.Inputs.
	Inputs map[string]string
	// StateDir holds the local state of a stack without a backend block
	// (DATA_DIR/state/<repo>/<stack>).
	StateDir string
	// Backend is the state configuration from strata.yaml; nil for none.
	Backend *Backend
	// RefreshOnly plans with -refresh-only: the plan only records what
	// changed outside Terraform and proposes no action.
	RefreshOnly bool
	// VarFiles are given to plan as -var-file, repo-relative (under Root).
	VarFiles []string
	// Env is added to terraform's environment.
	Env map[string]string
	// ExtraArgs are added to init, plan and apply; their -var-file paths
	// are repo-relative.
	ExtraArgs stacks.ExtraArgs
	// Targets plan only these resource addresses (-target): the plan is
	// partial.
	Targets []string
}

// Options configures a Runner. Only Binary is required.
type Options struct {
	// Binary is what runs (see tf.FindBinary).
	Binary *tf.Binary
	// CacheDir holds the provider plugin cache, its lock and strata's
	// terraform CLI config; default tf.DefaultCacheDir().
	CacheDir string
	// Parallel bounds how many stacks PlanAll runs at once; default
	// runtime.NumCPU().
	Parallel int
	// StackTimeout bounds one stack's whole run; default one hour.
	StackTimeout time.Duration
	// LockTimeout is how long terraform waits for a state lock
	// (-lock-timeout); default 5 minutes.
	LockTimeout time.Duration
	// Grace is how long an interrupted terraform may take to stop
	// before it is killed; default one minute.
	Grace time.Duration
	// Progress reports stacks starting and ending; nil reports nothing.
	Progress *Progress
	// CLIConfig is appended to strata's terraform CLI config (e.g. a
	// provider_installation block for a mirror, credentials blocks).
	CLIConfig string
	// Environ is the environment terraform's own is made from: STRATA_*
	// and the TF_* settings strata owns are left out; nil means
	// os.Environ().
	Environ []string
	// TempDir holds each run's scratch directory (terraform's data dir,
	// the plan file); default os.TempDir().
	TempDir string
}

// Runner runs terraform for stacks. It is safe for concurrent use.
type Runner struct {
	bin          *tf.Binary
	env          []string
	plugins      tf.PluginCache
	parallel     int
	stackTimeout time.Duration
	lockTimeout  time.Duration
	grace        time.Duration
	progress     *Progress
	tempDir      string
}

// NewRunner prepares a Runner: the plugin cache and strata's CLI config.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Binary == nil || opts.Binary.Path == "" {
		return nil, errors.New("planner: no terraform binary given")
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		var err error
		if cacheDir, err = tf.DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return nil, err
	}
	plugins := filepath.Join(cacheDir, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return nil, fmt.Errorf("plugin cache: %w", err)
	}
	cli, err := tf.WriteCLIConfig(cacheDir, plugins, opts.CLIConfig)
	if err != nil {
		return nil, err
	}
	r := &Runner{
		bin:          opts.Binary,
		env:          tf.Environ(environ(opts.Environ), "TF_CLI_CONFIG_FILE="+cli),
		plugins:      tf.PluginCache{Dir: plugins},
		parallel:     opts.Parallel,
		stackTimeout: opts.StackTimeout,
		lockTimeout:  opts.LockTimeout,
		grace:        opts.Grace,
		progress:     opts.Progress,
		tempDir:      opts.TempDir,
	}
	if r.parallel <= 0 {
		r.parallel = runtime.NumCPU()
	}
	if r.stackTimeout <= 0 {
		r.stackTimeout = time.Hour
	}
	if r.lockTimeout <= 0 {
		r.lockTimeout = 5 * time.Minute
	}
	if r.grace <= 0 {
		r.grace = time.Minute
	}
	return r, nil
}

// PlanAll plans jobs, at most Parallel at once, and returns their results
// in the order of jobs. A stack that fails never stops the others; when ctx
// ends, the running stacks are interrupted and those not yet started report
// an error without running.
func (r *Runner) PlanAll(ctx context.Context, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	var g errgroup.Group
	g.SetLimit(r.parallel)
	for i, job := range jobs {
		g.Go(func() error {
			results[i] = r.Plan(ctx, job)
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// environ is env, or the process's environment when env is nil.
func environ(env []string) []string {
	if env == nil {
		return os.Environ()
	}
	return env
}
