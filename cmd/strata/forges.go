package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

// openForges makes the forges the server serves: GitLab when it has a
// GitLab token, GitHub when it has a GitHub token or App, both when it has
// both. Each needs its webhook secret. It returns, for the start-up log,
// the API URL of each forge by name.
func openForges(f serverFlags, log *slog.Logger) ([]forge.Forge, map[string]string, error) {
	var forges []forge.Forge
	urls := map[string]string{}
	lab, err := openGitLab(f)
	if err != nil {
		return nil, nil, err
	}
	if lab != nil {
		forges = append(forges, lab)
		urls[gitlab.Name] = f.gitlabURL
	}
	hub, err := openGitHub(f, log)
	if err != nil {
		return nil, nil, err
	}
	if hub != nil {
		forges = append(forges, hub)
		urls[github.Name] = f.githubURL
	}
	if len(forges) == 0 {
		return nil, nil, errors.New("no forge to serve: set STRATA_GITLAB_TOKEN (or --gitlab-token-file) for GitLab, " +
			"STRATA_GITHUB_TOKEN (or --github-token-file) or --github-app-id and --github-app-key-file for GitHub")
	}
	return forges, urls, nil
}

// openGitLab returns nil, nil when no GitLab token is configured.
func openGitLab(f serverFlags) (forge.Forge, error) {
	token, err := secret("STRATA_GITLAB_TOKEN", f.gitlabTokenFile)
	if err != nil {
		return nil, fmt.Errorf("GitLab token: %w", err)
	}
	if token == "" {
		return nil, nil
	}
	hookSecret, err := secret("STRATA_GITLAB_WEBHOOK_SECRET", f.gitlabSecretFile)
	if err != nil {
		return nil, fmt.Errorf("GitLab webhook secret: %w", err)
	}
	if hookSecret == "" {
		return nil, errors.New("no GitLab webhook secret: set STRATA_GITLAB_WEBHOOK_SECRET or --gitlab-webhook-secret-file, and the same secret token on the GitLab webhook")
	}
	return gitlab.New(gitlab.Options{BaseURL: f.gitlabURL, Token: token, WebhookSecret: hookSecret, AllowFileRemotes: f.allowFileRemotes})
}

// openGitHub returns nil, nil when neither a GitHub token nor an App is
// configured.
func openGitHub(f serverFlags, log *slog.Logger) (forge.Forge, error) {
	token, err := secret("STRATA_GITHUB_TOKEN", f.githubTokenFile)
	if err != nil {
		return nil, fmt.Errorf("GitHub token: %w", err)
	}
	opts := github.Options{BaseURL: f.githubURL, Token: token, AllowFileRemotes: f.allowFileRemotes,
		PlanDrafts: f.githubPlanDrafts, Logger: log}
	switch {
	case f.githubAppID == "" && f.githubAppKeyFile == "" && token == "":
		return nil, nil
	case f.githubAppID != "" && token != "":
		return nil, errors.New("GitHub: give either a token (STRATA_GITHUB_TOKEN or --github-token-file) or a GitHub App (--github-app-id), not both")
	case f.githubAppID == "" && f.githubAppKeyFile != "":
		return nil, errors.New("GitHub: --github-app-key-file needs --github-app-id, the App's numeric ID (its settings page shows it)")
	case f.githubAppID != "":
		id, err := strconv.ParseInt(f.githubAppID, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("GitHub: --github-app-id %q is not a GitHub App's numeric ID (its settings page shows it)", f.githubAppID)
		}
		if f.githubAppKeyFile == "" {
			return nil, errors.New("GitHub: the GitHub App needs its private key: --github-app-key-file F (a .pem the App's settings page generates)")
		}
		key, err := os.ReadFile(f.githubAppKeyFile)
		if err != nil {
			return nil, fmt.Errorf("GitHub: read the App's private key: %w", err)
		}
		opts.AppID, opts.AppKey = id, key
	}
	opts.WebhookSecret, err = secret("STRATA_GITHUB_WEBHOOK_SECRET", f.githubSecretFile)
	if err != nil {
		return nil, fmt.Errorf("GitHub webhook secret: %w", err)
	}
	if opts.WebhookSecret == "" {
		return nil, errors.New("no GitHub webhook secret: set STRATA_GITHUB_WEBHOOK_SECRET or --github-webhook-secret-file, and the same secret on the GitHub webhook (or App)")
	}
	return github.New(opts)
}
