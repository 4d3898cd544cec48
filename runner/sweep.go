package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
)

// sweepLoop looks for locks of merge requests that are no longer open,
// every SweepInterval: a close webhook can be lost, a lock must not be.
// It queues a check per merge request rather than releasing directly, so
// the check runs after any event of that merge request still queued (a
// merge waiting to be applied keeps its locks until it is).
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) sweep(ctx context.Context) {
	locks, err := s.cfg.Locks.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("lock sweep: cannot list locks", "err", err)
		}
		return
	}
	s.metrics.locksHeld.Set(float64(len(locks)))
	seen := map[string]bool{}
	round := time.Now().Truncate(s.cfg.SweepInterval).Unix()
	for _, l := range locks {
		ref, ok := forge.ParseMRRef(l.Owner)
		if !ok || s.forges[ref.Forge] == nil || seen[l.Owner] {
			continue
		}
		seen[l.Owner] = true
		payload, _ := json.Marshal(ref)
		_, err := s.cfg.Queue.Put(ctx, queue.Item{
			ID: fmt.Sprintf("sweep:%s:%d", ref, round), Group: ref.String(), Kind: kindSweep, Payload: payload,
		})
		if err != nil && ctx.Err() == nil {
			s.log.Error("lock sweep: cannot queue a check", "mr", ref.String(), "err", err)
		}
	}
}
