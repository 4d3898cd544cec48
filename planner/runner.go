package planner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/strata-iac/strata/internal/redact"
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
	// CLIConfig is merged into strata's terraform CLI config like the
	// operator's own (TF_CLI_CONFIG_FILE of Environ): a
	// provider_installation block for a mirror, credentials blocks.
	CLIConfig string
	// Environ is the environment terraform's own is made from: STRATA_*
	// and the TF_* settings strata owns are left out; nil means
	// os.Environ().
	Environ []string
	// TempDir holds each run's scratch directory (terraform's data dir,
	// the plan file); default os.TempDir().
	TempDir string
	// Sandbox, when set, runs every terraform process in it (package
	// planner/tf), seeing only what its run needs.
	Sandbox *tf.Sandbox
	// PlanEnv and ApplyEnv (KEY=VALUE) are set over Environ for the
	// terraform processes of plans and of applies alone (an empty value
	// removes the variable): plan-only and apply credentials.
	PlanEnv, ApplyEnv []string
	// Secrets are masked in every result, with the values of Environ's,
	// PlanEnv's and ApplyEnv's variables whose names look secret and the
	// tokens of the CLI config (package internal/redact).
	Secrets []string
}

// Runner runs terraform for stacks. It is safe for concurrent use.
type Runner struct {
	bin          *tf.Binary
	env          []string
	planEnv      []string
	applyEnv     []string
	sandbox      *tf.Sandbox
	mounts       tf.Mounts
	redactor     *redact.Redactor
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
	env := environ(opts.Environ)
	var sources []tf.CLIConfigSource
	operator, err := tf.OperatorCLIConfig(env)
	if err != nil {
		return nil, err
	}
	if operator != nil {
		sources = append(sources, *operator)
	}
	if opts.CLIConfig != "" {
		sources = append(sources, tf.CLIConfigSource{Name: "the planner's CLI config", Content: []byte(opts.CLIConfig)})
	}
	cli, err := tf.WriteCLIConfig(cacheDir, plugins, sources...)
	if err != nil {
		return nil, err
	}
	secrets := slices.Concat(opts.Secrets, redact.EnvSecrets(env), redact.EnvSecrets(opts.PlanEnv), redact.EnvSecrets(opts.ApplyEnv), cli.Secrets)
	r := &Runner{
		bin:          opts.Binary,
		env:          tf.Environ(env, "TF_CLI_CONFIG_FILE="+cli.Path),
		planEnv:      opts.PlanEnv,
		applyEnv:     opts.ApplyEnv,
		sandbox:      opts.Sandbox,
		mounts:       tf.Mounts{ReadOnly: []string{plugins, cli.Path}, Optional: cli.MirrorDirs},
		redactor:     redact.New(secrets...),
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
