package ci

import (
	"log/slog"

	"github.com/strata-iac/strata/runner/forge/github"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/review"
)

// OpenForge returns the server's client of the job's forge, at the API
// the CI system names, with strata's token. It takes no webhooks.
func OpenForge(j *Job, log *slog.Logger) (review.Forge, error) {
	if j.Forge == github.Name {
		return github.New(github.Options{BaseURL: j.API, Token: j.Token, BotLogin: j.BotLogin, Logger: log})
	}
	return gitlab.New(gitlab.Options{BaseURL: j.API, Token: j.Token})
}
