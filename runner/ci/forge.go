package ci

import (
	"log/slog"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/review"
)

// OpenForge returns the server's client of the job's forge, at the API
// the CI system names, with strata's token, behind red: no secret the job
// holds reaches a comment or a status. It takes no webhooks.
func OpenForge(j *Job, red *redact.Redactor, log *slog.Logger) (review.Forge, error) {
	var f forge.Forge
	var err error
	if j.Forge == github.Name {
		f, err = github.New(github.Options{BaseURL: j.API, Token: j.Token, BotLogin: j.BotLogin, Logger: log})
	} else {
		f, err = gitlab.New(gitlab.Options{BaseURL: j.API, Token: j.Token})
	}
	if err != nil {
		return nil, err
	}
	return forge.Redacted(f, red), nil
}
