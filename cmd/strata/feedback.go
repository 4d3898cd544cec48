package main

import (
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/pflag"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner"
)

// feedbackFlags are the server's flags for run logs, the notes' links
// and the web page.
type feedbackFlags struct {
	publicURL string
}

func (f *feedbackFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.publicURL, "public-url", "", "where people reach this server, e.g. https://strata.example.com: notes link each stack to its run's page under /ui")
}

// feedback checks the flags and builds the server's Feedback. Run logs
// are redacted of every secret the server holds: its forges' tokens and
// webhook secrets, the notify webhook, and environment variables whose
// names look secret.
func (f *feedbackFlags) feedback(s serverFlags) (runner.Feedback, error) {
	if f.publicURL != "" {
		u, err := url.Parse(f.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return runner.Feedback{}, fmt.Errorf("--public-url %q: give the server's address as people reach it, e.g. https://strata.example.com", f.publicURL)
		}
	}
	var secrets []string
	for _, src := range [][2]string{
		{"STRATA_GITLAB_TOKEN", s.gitlabTokenFile}, {"STRATA_GITLAB_WEBHOOK_SECRET", s.gitlabSecretFile},
		{"STRATA_GITHUB_TOKEN", s.githubTokenFile}, {"STRATA_GITHUB_WEBHOOK_SECRET", s.githubSecretFile},
	} {
		if v, err := secret(src[0], src[1]); err == nil && v != "" {
			secrets = append(secrets, v)
		}
	}
	if s.notifyWebhook != "" {
		secrets = append(secrets, s.notifyWebhook)
	}
	return runner.Feedback{
		PublicURL: f.publicURL,
		Redactor:  redact.New(secrets...).With(redact.EnvSecrets(os.Environ())...),
	}, nil
}
