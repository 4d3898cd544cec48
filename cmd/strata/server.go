package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/internal/secretenv"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/tf"
	"github.com/strata-iac/strata/runner"
	"github.com/strata-iac/strata/runner/drift"
	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/lock/dynamodb"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/store"
)

type serverFlags struct {
	listen, dataDir, locks, store, queue string
	gitlabURL, githubURL                 string
	gitlabTokenFile, gitlabSecretFile    string
	githubAppID, githubAppKeyFile        string
	githubTokenFile, githubSecretFile    string
	repoAllowlist, appliers              []string
	allowFileRemotes, allowForks         bool
	githubPlanDrafts                     bool
	workers                              int
	sweepInterval, shutdownGrace         time.Duration
	lockLease, stackTimeout              time.Duration
	replicaLease                         time.Duration
	driftSchedule, notifyWebhook         string
	logFormat, replica                   string
	sandbox                              string
	feedback                             feedbackFlags

	webhookMaxMiB, webhookBodies int
	webhookBodyTimeout           time.Duration
}

func newServerCmd() *cobra.Command {
	var f serverFlags
	c := &cobra.Command{
		Use:   "server",
		Short: "Serve GitLab and GitHub webhooks: plan merge and pull requests, apply them when approved or merged",
		Long: `Serve POST /events/gitlab and POST /events/github (webhooks), GET /healthz
and GET /metrics, and, with --ui-users-file or --ui-auth-header, the web page
under /ui (locks, runs and their logs, drift, the queue).

The server serves GitLab when it has a GitLab token, GitHub when it has a
GitHub token or a GitHub App, and both when it has both.

Every flag can also be set with STRATA_<FLAG> (upper case, dashes as
underscores), e.g. STRATA_REPO_ALLOWLIST. Secrets are never flags: give them
as STRATA_GITLAB_TOKEN, STRATA_GITLAB_WEBHOOK_SECRET, STRATA_GITHUB_TOKEN and
STRATA_GITHUB_WEBHOOK_SECRET, or as files with --gitlab-token-file,
--gitlab-webhook-secret-file, --github-token-file and
--github-webhook-secret-file. A GitHub App's private key is read from
--github-app-key-file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// First of all: the secrets leave the environment other
			// processes can read (this re-executes strata in place).
			if err := secretenv.Hide(secretVar); err != nil {
				return err
			}
			if err := bindEnv(cmd); err != nil {
				return err
			}
			return runServer(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.listen, "listen", ":8080", "address to serve on")
	fl.StringVar(&f.dataDir, "data-dir", "", dataDirUsage)
	fl.StringVar(&f.locks, "locks", "", "where locks live: bolt://FILE or dynamodb://TABLE (default bolt://DATA_DIR/locks.db)")
	fl.StringVar(&f.store, "store", "", "where plans and run records live: a directory or s3://BUCKET/PREFIX (default DATA_DIR/store)")
	fl.StringVar(&f.queue, "queue", "", "the durable event queue: bolt://FILE (default bolt://DATA_DIR/queue.db), or sqs://QUEUE.fifo shared by replicas")
	fl.StringVar(&f.gitlabURL, "gitlab-url", gitlab.DefaultBaseURL, "the GitLab instance")
	fl.StringVar(&f.gitlabTokenFile, "gitlab-token-file", "", "file holding the GitLab token (else STRATA_GITLAB_TOKEN)")
	fl.StringVar(&f.gitlabSecretFile, "gitlab-webhook-secret-file", "", "file holding the webhook secret (else STRATA_GITLAB_WEBHOOK_SECRET)")
	fl.StringVar(&f.githubURL, "github-url", github.DefaultBaseURL, "the GitHub API: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server")
	fl.StringVar(&f.githubAppID, "github-app-id", "", "act as this GitHub App (its numeric ID), through installation tokens")
	fl.StringVar(&f.githubAppKeyFile, "github-app-key-file", "", "the GitHub App's private key (.pem)")
	fl.StringVar(&f.githubTokenFile, "github-token-file", "", "file holding a GitHub token, instead of an App (else STRATA_GITHUB_TOKEN)")
	fl.StringVar(&f.githubSecretFile, "github-webhook-secret-file", "", "file holding the GitHub webhook secret (else STRATA_GITHUB_WEBHOOK_SECRET)")
	fl.BoolVar(&f.githubPlanDrafts, "github-plan-drafts", false, "plan draft pull requests too (by default they are planned once marked ready for review)")
	fl.StringSliceVar(&f.repoAllowlist, "repo-allowlist", nil, "forge/owner/name globs of the repositories strata acts for, e.g. gitlab/acme/**,github/acme/* (default none)")
	fl.StringSliceVar(&f.appliers, "appliers", nil, "who may comment \"strata apply\": `USER[,group:PATH|team:ORG/SLUG]`, usernames, GitLab groups or GitHub teams (default anyone, within the requirements)")
	fl.BoolVar(&f.allowFileRemotes, "allow-file-remotes", false, "clone file:// URLs from payloads (tests only)")
	fl.BoolVar(&f.allowForks, "allow-forks", false, "plan merge and pull requests from forks, running their code with the server's credentials")
	fl.IntVar(&f.workers, "workers", 2, "events processed at once")
	fl.IntVar(&f.webhookMaxMiB, "webhook-max-mib", gitlab.DefaultMaxWebhookBytes>>20, "largest webhook body accepted, in MiB; larger ones get 413")
	fl.DurationVar(&f.webhookBodyTimeout, "webhook-body-timeout", runner.DefaultBodyTimeout, "longest a webhook request may take to arrive, body included; slower ones get 408")
	fl.IntVar(&f.webhookBodies, "webhook-max-bodies", runner.DefaultMaxBodies, "webhook bodies read at once; others wait their turn until --webhook-body-timeout, then get 503")
	fl.DurationVar(&f.sweepInterval, "sweep-interval", 5*time.Minute, "how often locks of merged or closed merge requests are released")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 2*time.Minute, "how long runs in flight may finish after SIGTERM before they are interrupted")
	fl.DurationVar(&f.lockLease, "lock-lease", 0, "lease on stack locks, renewed by every plan; 0 keeps locks until released")
	fl.DurationVar(&f.replicaLease, "replica-lease", time.Minute, "how long this replica's hold on its work lasts unrenewed (SQS visibility, run heartbeats); renewed every third of it, so a replica that dies loses its work to the others after this long")
	fl.DurationVar(&f.stackTimeout, "stack-timeout", time.Hour, "longest one stack may run")
	fl.StringVar(&f.driftSchedule, "drift-schedule", "", "cron expression for drift scans of every allowed repository (strata.yaml's drift.schedule wins)")
	fl.StringVar(&f.notifyWebhook, "notify-webhook", "", "Slack-compatible webhook URL told when the set of drifted stacks changes (it holds a secret: prefer STRATA_NOTIFY_WEBHOOK)")
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json|text")
	fl.StringVar(&f.replica, "replica", "", "name of this replica in run records (default: host name)")
	fl.StringVar(&f.sandbox, "sandbox", string(tf.SandboxRequired), sandboxUsage)
	f.feedback.register(fl)
	return c
}

func runServer(ctx context.Context, f serverFlags, stderr io.Writer) error {
	if err := checkFormat(f.logFormat, "json", "text"); err != nil {
		return fmt.Errorf("--log-format: %w", err)
	}
	if err := secretenv.Protect(); err != nil {
		return err
	}
	dir, err := dataDir(f.dataDir)
	if err != nil {
		return err
	}
	if f.webhookMaxMiB <= 0 || f.webhookBodies <= 0 || f.webhookBodyTimeout <= 0 {
		return errors.New("--webhook-max-mib, --webhook-max-bodies and --webhook-body-timeout must be positive")
	}
	creds, err := readForgeCredentials(f)
	if err != nil {
		return err
	}
	page, err := f.feedback.ui(f)
	if err != nil {
		return err
	}
	own := append(creds.secrets(), urlSecrets(f.notifyWebhook)...)
	if page != nil && page.SessionKey != nil {
		own = append(own, string(page.SessionKey))
	}
	held, err := heldSecrets(own...)
	if err != nil {
		return err
	}
	red := redact.New(held.secrets...)
	var handler slog.Handler = slog.NewJSONHandler(stderr, nil)
	if f.logFormat == "text" {
		handler = slog.NewTextHandler(stderr, nil)
	}
	log := slog.New(red.Handler(handler))
	sandbox, err := openSandbox(ctx, f.sandbox, func(err error) { log.Warn("terraform runs unsandboxed", "reason", err.Error()) })
	if err != nil {
		return err
	}
	if len(f.repoAllowlist) == 0 {
		log.Warn("--repo-allowlist is empty: every webhook will be refused")
	}
	forges, forgeURLs, err := openForges(f, creds, red, log)
	if err != nil {
		return err
	}
	locksURL := orDefault(f.locks, defaultLocksURL(dir))
	storeURL := orDefault(f.store, filepath.Join(dir, "store"))
	queueURL := orDefault(f.queue, "bolt://"+filepath.Join(dir, "queue.db"))
	if err := checkShared(queueURL, locksURL, storeURL); err != nil {
		return err
	}
	locks, err := lock.Open(ctx, locksURL, lock.Options{Lease: f.lockLease})
	if err != nil {
		return err
	}
	defer locks.Close()
	// Drift scan locks always have a lease, renewed while a scan runs, so a
	// replica that dies mid-scan never blocks the next one.
	scanLocks, err := lock.Open(ctx, locksURL, lock.Options{Lease: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer scanLocks.Close()
	rawStore, err := store.Open(ctx, storeURL)
	if err != nil {
		return err
	}
	st := store.Redacted(rawStore, red, func(key string) bool { return strings.HasSuffix(key, planner.PlanFile) })
	qopts := queue.Options{Logger: log, Lease: f.replicaLease}
	if table, ok := strings.CutPrefix(locksURL, "dynamodb://"); ok && strings.HasPrefix(queueURL, "sqs://") {
		// SQS forgets a delivery after five minutes: the lock table
		// remembers it for the queue's deduplication window.
		if qopts.Dedup, err = dynamodb.NewDedup(ctx, table); err != nil {
			return err
		}
	}
	fb, err := f.feedback.feedback(page, red)
	if err != nil {
		return err
	}
	q, err := queue.Open(ctx, queueURL, qopts)
	if err != nil {
		return err
	}
	defer q.Close()
	srv, err := runner.New(runner.Config{
		Forges: forges, Queue: q, Locks: locks, ScanLocks: scanLocks, Store: st, DataDir: dir,
		RepoAllowlist: f.repoAllowlist, AllowFileRemotes: f.allowFileRemotes, AllowForks: f.allowForks,
		Appliers: f.appliers, Workers: f.workers, SweepInterval: f.sweepInterval, ShutdownGrace: f.shutdownGrace,
		BodyTimeout: f.webhookBodyTimeout, MaxBodies: f.webhookBodies,
		Replica: f.replica, ReplicaLease: f.replicaLease, StackTimeout: f.stackTimeout, Logger: log,
		Sandbox: sandbox, PlanEnv: held.plan, ApplyEnv: held.apply, Secrets: held.secrets,
		Drift: drift.Settings{Schedule: f.driftSchedule, NotifyWebhook: f.notifyWebhook, Redactor: red}, Feedback: fb,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("strata server listening", "addr", ln.Addr().String(), "forges", forgeURLs,
		"locks", locksURL, "store", st.String(), "queue", queueURL, "sandbox", sandbox != nil, "version", versionString())
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", f.listen, err)
	case <-ctx.Done():
	}
	log.Info("signal received: no new webhooks, finishing runs in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdownCtx)
	err = <-runDone
	log.Info("strata server stopped")
	return err
}

// checkShared refuses a queue shared by replicas with locks or a store
// that only this machine sees: replicas would plan and apply against
// different locks and states.
func checkShared(queueURL, locksURL, storeURL string) error {
	if !strings.HasPrefix(queueURL, "sqs://") {
		return nil
	}
	if !strings.HasPrefix(locksURL, "dynamodb://") || !strings.HasPrefix(storeURL, "s3://") {
		return fmt.Errorf("--queue %s is shared by replicas, so locks and store must be too: use --locks dynamodb://TABLE and --store s3://BUCKET/PREFIX (got --locks %s --store %s)", queueURL, locksURL, storeURL)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
