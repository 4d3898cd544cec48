package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

// forgeCredentials are the secrets of the forges the server serves, read
// before anything else so that the redactor knows them before the first
// log line.
type forgeCredentials struct {
	gitlabToken, gitlabSecret string
	githubToken, githubSecret string
	githubAppID               int64
	githubAppKey              []byte
}

// secrets lists every value to mask.
func (c forgeCredentials) secrets() []string {
	var out []string
	for _, s := range []string{c.gitlabToken, c.gitlabSecret, c.githubToken, c.githubSecret, string(c.githubAppKey)} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readForgeCredentials reads the credentials of each forge the server is
// configured for: GitLab when it has a GitLab token, GitHub when it has a
// GitHub token or App, both when it has both. Each needs its webhook
// secret.
func readForgeCredentials(f serverFlags) (forgeCredentials, error) {
	var c forgeCredentials
	var err error
	if c.gitlabToken, err = secret("STRATA_GITLAB_TOKEN", f.gitlabTokenFile); err != nil {
		return c, fmt.Errorf("GitLab token: %w", err)
	}
	if c.gitlabToken != "" {
		if c.gitlabSecret, err = secret("STRATA_GITLAB_WEBHOOK_SECRET", f.gitlabSecretFile); err != nil {
			return c, fmt.Errorf("GitLab webhook secret: %w", err)
		}
		if c.gitlabSecret == "" {
			return c, errors.New("no GitLab webhook secret: set STRATA_GITLAB_WEBHOOK_SECRET or --gitlab-webhook-secret-file, and the same secret token on the GitLab webhook")
		}
	}
	if c.githubToken, err = secret("STRATA_GITHUB_TOKEN", f.githubTokenFile); err != nil {
		return c, fmt.Errorf("GitHub token: %w", err)
	}
	switch {
	case f.githubAppID == "" && f.githubAppKeyFile == "" && c.githubToken == "":
		if c.gitlabToken == "" {
			return c, errors.New("no forge to serve: set STRATA_GITLAB_TOKEN (or --gitlab-token-file) for GitLab, " +
				"STRATA_GITHUB_TOKEN (or --github-token-file) or --github-app-id and --github-app-key-file for GitHub")
		}
		return c, nil
	case f.githubAppID != "" && c.githubToken != "":
		return c, errors.New("GitHub: give either a token (STRATA_GITHUB_TOKEN or --github-token-file) or a GitHub App (--github-app-id), not both")
	case f.githubAppID == "" && f.githubAppKeyFile != "":
		return c, errors.New("GitHub: --github-app-key-file needs --github-app-id, the App's numeric ID (its settings page shows it)")
	case f.githubAppID != "":
		id, err := strconv.ParseInt(f.githubAppID, 10, 64)
		if err != nil || id <= 0 {
			return c, fmt.Errorf("GitHub: --github-app-id %q is not a GitHub App's numeric ID (its settings page shows it)", f.githubAppID)
		}
		if f.githubAppKeyFile == "" {
			return c, errors.New("GitHub: the GitHub App needs its private key: --github-app-key-file F (a .pem the App's settings page generates)")
		}
		key, err := os.ReadFile(f.githubAppKeyFile)
		if err != nil {
			return c, fmt.Errorf("GitHub: read the App's private key: %w", err)
		}
		c.githubAppID, c.githubAppKey = id, key
	}
	if c.githubSecret, err = secret("STRATA_GITHUB_WEBHOOK_SECRET", f.githubSecretFile); err != nil {
		return c, fmt.Errorf("GitHub webhook secret: %w", err)
	}
	if c.githubSecret == "" {
		return c, errors.New("no GitHub webhook secret: set STRATA_GITHUB_WEBHOOK_SECRET or --github-webhook-secret-file, and the same secret on the GitHub webhook (or App)")
	}
	return c, nil
}

// openForges makes the forges the credentials are for, each behind the
// redactor. It returns, for the start-up log, the API URL of each forge
// by name.
func openForges(f serverFlags, c forgeCredentials, red *redact.Redactor, log *slog.Logger) ([]forge.Forge, map[string]string, error) {
	var forges []forge.Forge
	urls := map[string]string{}
	maxBody := int64(f.webhookMaxMiB) << 20
	if c.gitlabToken != "" {
		lab, err := gitlab.New(gitlab.Options{BaseURL: f.gitlabURL, Token: c.gitlabToken, WebhookSecret: c.gitlabSecret,
			AllowFileRemotes: f.allowFileRemotes, MaxWebhookBytes: maxBody})
		if err != nil {
			return nil, nil, err
		}
		forges = append(forges, forge.Redacted(lab, red))
		urls[gitlab.Name] = f.gitlabURL
	}
	if c.githubSecret != "" {
		hub, err := github.New(github.Options{BaseURL: f.githubURL, Token: c.githubToken, AppID: c.githubAppID, AppKey: c.githubAppKey,
			WebhookSecret: c.githubSecret, AllowFileRemotes: f.allowFileRemotes, PlanDrafts: f.githubPlanDrafts,
			Logger: log, MaxWebhookBytes: maxBody})
		if err != nil {
			return nil, nil, err
		}
		forges = append(forges, forge.Redacted(hub, red))
		urls[github.Name] = f.githubURL
	}
	return forges, urls, nil
}
