package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/store"
)

// defaultLease is Recorder.Lease's default.
const defaultLease = time.Minute

// beat renews the active record of one run.
type beat struct {
	stop context.CancelFunc
	done chan struct{}
}

type itemKey struct{}

// WithItem tags ctx with the queue item whose handling it carries: runs
// started under it record the item, so that the replica that takes the
// item again after a crash finds the runs the crash left (Abandon).
func WithItem(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, itemKey{}, id)
}

// ItemOf is the queue item WithItem tagged ctx with, or "".
func ItemOf(ctx context.Context) string {
	id, _ := ctx.Value(itemKey{}).(string)
	return id
}

func (r *Recorder) lease() time.Duration {
	if r.Lease <= 0 {
		return defaultLease
	}
	return r.Lease
}

// Stale reports whether the replica running rec stopped renewing its
// record: no heartbeat for two thirds of the lease, two renewals missed.
func (r *Recorder) Stale(rec *Record, now time.Time) bool {
	last := rec.Heartbeat
	if last.IsZero() {
		last = rec.StartedAt
	}
	return now.Sub(last) > 2*r.lease()/3
}

// startBeat writes rec's active record, created with a conditional write,
// and renews it with conditional writes until stopBeat. A renewal refused
// because another replica closed the run (it judged this one dead) ends
// the heartbeat; the run goes on and Finish records how it really ended.
func (r *Recorder) startBeat(ctx context.Context, rec *Record) {
	key := ActiveRunKey(rec.ID)
	snap := *rec
	data, err := json.MarshalIndent(&snap, "", "  ")
	if err != nil {
		r.Log.Error("run record: cannot encode", "run", rec.ID, "err", err)
		return
	}
	etag, err := r.Store.PutIf(ctx, key, data, "")
	if err != nil {
		r.Log.Error("run record: cannot write", "key", key, "err", err)
		return
	}
	bctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b := &beat{stop: stop, done: make(chan struct{})}
	r.mu.Lock()
	if r.beats == nil {
		r.beats = map[string]*beat{}
	}
	r.beats[rec.ID] = b
	r.mu.Unlock()
	every := r.lease() / 3
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-bctx.Done():
				return
			case <-t.C:
			}
			snap.Heartbeat = time.Now().UTC()
			data, _ := json.MarshalIndent(&snap, "", "  ")
			next, err := r.Store.PutIf(bctx, key, data, etag)
			if errors.Is(err, store.ErrPreconditionFailed) {
				next, err = r.ownTag(bctx, key)
			}
			switch {
			case err == nil:
				etag = next
			case bctx.Err() != nil:
				return
			case errors.Is(err, store.ErrPreconditionFailed):
				r.Log.Warn("run record: another replica closed this run as interrupted after missed heartbeats; it goes on and its end will be recorded",
					"run", rec.ID, "err", err)
				return
			default:
				r.Log.Warn("run record: cannot renew the heartbeat", "run", rec.ID, "err", err)
			}
		}
	}()
}

// ownTag returns the tag of an active record that is still this replica's
// running record: a renewal can land while its answer is lost, and the
// next one then fails on the tag it no longer knows.
func (r *Recorder) ownTag(ctx context.Context, key string) (string, error) {
	data, tag, err := r.Store.GetTagged(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.ErrPreconditionFailed
	}
	if err != nil {
		return "", err
	}
	var cur Record
	if err := json.Unmarshal(data, &cur); err != nil || cur.State != StateRunning || cur.Replica != r.Replica {
		return "", store.ErrPreconditionFailed
	}
	return tag, nil
}

// stopBeat ends the heartbeat of run id, if this replica runs one.
func (r *Recorder) stopBeat(id string) {
	r.mu.Lock()
	b := r.beats[id]
	delete(r.beats, id)
	r.mu.Unlock()
	if b != nil {
		b.stop()
		<-b.done
	}
}

func (r *Recorder) beating(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.beats[id] != nil
}

// Abandon closes, as interrupted, the runs in progress that match (every
// one when match is nil) and whose replicas stopped renewing them (Stale):
// a replica that died, whatever its name, leaves no run open forever. Each
// is claimed with a conditional write first, so of the replicas that find
// it one closes it, and a replica that renews it in time keeps it. The
// caller settles what the runs left behind (their commit statuses).
func (r *Recorder) Abandon(ctx context.Context, match func(*Record) bool) []*Record {
	keys, err := r.Store.List(ctx, activePrefix)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Error("run records: cannot list runs in progress", "err", err)
		}
		return nil
	}
	var out []*Record
	for _, k := range keys {
		if !IsRecordKey(k) {
			continue
		}
		data, tag, err := r.Store.GetTagged(ctx, k)
		rec := &Record{}
		if err != nil || json.Unmarshal(data, rec) != nil {
			continue // finished meanwhile, or unreadable (Interrupted reports those)
		}
		// A record already claimed (interrupted) is being closed by the
		// replica that claimed it.
		if rec.State != StateRunning || (match != nil && !match(rec)) || r.beating(rec.ID) || !r.Stale(rec, time.Now()) {
			continue
		}
		claimed := *rec
		claimed.State = StateInterrupted
		body, _ := json.MarshalIndent(&claimed, "", "  ")
		if _, err := r.Store.PutIf(ctx, k, body, tag); err != nil {
			continue // renewed, or claimed by another replica
		}
		last := rec.Heartbeat
		if last.IsZero() {
			last = rec.StartedAt
		}
		r.Log.Warn("run interrupted: its replica stopped renewing it", "run", rec.ID, "replica", rec.Replica,
			"operation", string(rec.Operation), "repo", rec.Repo, "mr", rec.MR, "last_heartbeat", last.Format(time.RFC3339))
		r.Finish(ctx, rec, StateInterrupted, nil, fmt.Errorf("replica %s stopped while running it (last heartbeat %s)", rec.Replica, last.Format(time.RFC3339)))
		out = append(out, rec)
	}
	return out
}

// Find returns the record of run id of repo: the finished one once the run
// ended, else the one in progress (active true); nil when there is none.
func (r *Recorder) Find(ctx context.Context, repo forge.RepoRef, id string) (rec *Record, active bool, err error) {
	for _, k := range []string{RunKey(repo, id), ActiveRunKey(id)} {
		data, err := r.Store.Get(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		rec := &Record{}
		if err := json.Unmarshal(data, rec); err != nil {
			return nil, false, fmt.Errorf("run record %s: %w", k, err)
		}
		return rec, k == ActiveRunKey(id), nil
	}
	return nil, false, nil
}
