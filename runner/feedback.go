package runner

import (
	"net/http"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner/ui"
)

// Feedback configures how the server tells people what it did: the logs
// of runs, the links from notes to run pages and the web page under /ui.
type Feedback struct {
	// PublicURL is where people reach this server ("https://strata.
	// example.com"); when set, notes link each stack to its run's page.
	PublicURL string
	// Redactor masks the server's secrets in run logs; nil masks nothing.
	Redactor *redact.Redactor
	// UI, when set, serves the web page under /ui, reading the server's
	// store, locks and queue (those fields of it are set by the server).
	UI *ui.Config
}

// newUI builds the web page, when configured.
func (s *Server) newUI() error {
	if s.cfg.Feedback.UI == nil {
		return nil
	}
	c := *s.cfg.Feedback.UI
	c.Store, c.Locks, c.Queue, c.Log = s.cfg.Store, s.cfg.Locks, s.cfg.Queue, s.log
	page, err := ui.New(c)
	s.ui = page
	return err
}

// mountUI adds the web page, when there is one, to mux.
func (s *Server) mountUI(mux *http.ServeMux) {
	if s.ui != nil {
		s.ui.Register(mux)
	}
}
