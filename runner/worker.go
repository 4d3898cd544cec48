package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
)

// Kinds of queued items, besides drift.Kind.
const (
	kindEvent = "event" // a webhook event (forge.Event)
	kindSweep = "sweep" // check whether a merge request still needs its locks (forge.MRRef)
)

// worker takes items off the queue until ctx ends; work is the context
// runs execute in, which outlives ctx by the shutdown grace.
func (s *Server) worker(ctx, work context.Context) {
	for {
		lease, err := s.cfg.Queue.Take(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, queue.ErrClosed) {
				s.log.Error("queue: take failed", "err", err)
				time.Sleep(time.Second)
				continue
			}
			return
		}
		s.inflight.Add(1)
		if lease.Attempt > 1 {
			// The item comes back: a replica that died may have left its
			// runs open. Close them before the new run sets their statuses.
			recs := s.records.Abandon(work, func(rec *records.Record) bool { return rec.Item == lease.Item.ID })
			s.failStatuses(work, recs, "interrupted: the strata replica running it stopped; the run is retried")
		}
		err = s.handle(records.WithItem(work, lease.Item.ID), lease.Item)
		s.settle(lease, err, work)
		s.inflight.Done()
	}
}

// handle passes an item to the handler of its kind. A panic in the
// handler fails that item for good (a *fault.PanicError) and never the
// process: the same input would panic again.
func (s *Server) handle(ctx context.Context, item queue.Item) (err error) {
	h, ok := s.handlers[item.Kind]
	if !ok {
		return fault.Permanent(fmt.Errorf("no handler for items of kind %q", item.Kind))
	}
	defer func() {
		if v := recover(); v != nil {
			err = fault.Panicked(v)
		}
	}()
	return h(ctx, item.Payload)
}

// settle acks a handled item. An item that failed for a reason that may
// pass (forge down, fetch failed, shutdown) goes back on the queue for a
// retry with backoff; one that can never be handled (unreadable, unknown
// kind) goes to the dead letters at once, with the reason.
func (s *Server) settle(lease *queue.Lease, err error, work context.Context) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
		if aerr := s.cfg.Queue.Ack(ctx, lease); aerr != nil {
			s.log.Error("queue: ack failed", "item", lease.Item.ID, "err", aerr)
		}
		return
	case fault.IsPermanent(err):
		attrs := []any{"item", lease.Item.ID, "kind", lease.Item.Kind, "err", err}
		var p *fault.PanicError
		if errors.As(err, &p) {
			attrs = append(attrs, "stack", string(p.Stack))
		}
		s.log.Error("queue: item cannot be handled; moving it to the dead letters", attrs...)
		if ferr := s.cfg.Queue.Fail(ctx, lease, err.Error()); ferr != nil {
			s.log.Error("queue: cannot move the item to the dead letters", "item", lease.Item.ID, "err", ferr)
		}
		return
	}
	retry := time.Duration(1<<min(lease.Attempt, 6)) * 5 * time.Second
	if work.Err() != nil {
		retry = 0 // interrupted by shutdown: the next start takes it again
	}
	s.log.Warn("event will be retried", "item", lease.Item.ID, "attempt", lease.Attempt, "retry_in", retry.String(), "err", err)
	if rerr := s.cfg.Queue.Release(ctx, lease, retry); rerr != nil {
		s.log.Error("queue: release failed", "item", lease.Item.ID, "err", rerr)
	}
}

// handleEvent passes a webhook event to its forge's reviewer.
func (s *Server) handleEvent(ctx context.Context, payload []byte) error {
	var ev forge.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fault.Permanent(fmt.Errorf("unreadable event: %w", err))
	}
	rv, ok := s.reviewers[ev.Forge]
	if !ok {
		return fault.Permanent(fmt.Errorf("event of forge %q, which this server does not serve", ev.Forge))
	}
	return rv.HandleEvent(ctx, ev)
}

// handleSweep passes a lock sweep check to its forge's reviewer.
func (s *Server) handleSweep(ctx context.Context, payload []byte) error {
	var ref forge.MRRef
	if err := json.Unmarshal(payload, &ref); err != nil {
		return fault.Permanent(fmt.Errorf("unreadable lock sweep check: %w", err))
	}
	rv, ok := s.reviewers[ref.Forge]
	if !ok {
		return fault.Permanent(fmt.Errorf("lock sweep check of forge %q, which this server does not serve", ref.Forge))
	}
	return rv.Sweep(ctx, ref)
}
