package runner

import "github.com/strata-iac/strata/internal/redact"

// Feedback configures how the server tells people what it did: the logs
// of runs, the links from notes to run pages and the web page under /ui.
type Feedback struct {
	// PublicURL is where people reach this server ("https://strata.
	// example.com"); when set, notes link each stack to its run's page.
	PublicURL string
	// Redactor masks the server's secrets in run logs; nil masks nothing.
	Redactor *redact.Redactor
}
