package runner

import (
	"context"
	"errors"
)

// kindDrift is a queued drift scan of one repository.
const kindDrift = "drift"

// DriftConfig schedules drift scans of every allowed repository.
type DriftConfig struct {
	// Schedule is a cron expression (--drift-schedule); strata.yaml's
	// drift.schedule on a repository's default branch overrides it.
	Schedule string
	// NotifyWebhook receives a Slack-compatible message when the set of
	// drifted stacks changes.
	NotifyWebhook string
}

func (s *Server) checkDrift() error { return nil }

func (s *Server) driftLoop(ctx, work context.Context) { <-ctx.Done() }

func (s *Server) driftScan(context.Context, []byte) error {
	return errors.New("drift scans are not supported yet")
}
