package queue

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

// op is one write to the file. apply changes the transaction and may run
// more than once (a failed batch is retried write by write), so it resets
// whatever it reports. done, when set, runs after the commit, in commit
// order, holding q.mu: it brings the index in line with the file.
type op struct {
	apply func(*bolt.Tx) error
	done  func()
	res   chan error
}

// write commits one op through the writer and waits until it is on disk.
//
// Every write of the queue goes through one writer goroutine, which
// commits the ops waiting for it together: while one transaction syncs to
// disk the next writers queue up, and the following transaction takes
// them all. A lone write costs one commit and no added delay (bbolt's
// db.Batch waits up to 10 ms to fill a batch); a burst costs one commit
// per batch rather than per write. Updating the index in commit order
// keeps items of one group in put order.
func (q *Bolt) write(ctx context.Context, apply func(*bolt.Tx) error, done func()) error {
	o := &op{apply: apply, done: done, res: make(chan error, 1)}
	select {
	case q.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-q.life.Done():
		return ErrClosed
	}
	// Once handed over the op may be committed: wait for the outcome
	// whatever ctx says, so a caller never mistakes a stored item for a
	// lost one.
	return <-o.res
}

// writer commits ops in batches until the queue closes.
func (q *Bolt) writer() {
	defer q.wg.Done()
	for {
		var first *op
		select {
		case first = <-q.ops:
		case <-q.life.Done():
			return
		}
		batch := []*op{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case o := <-q.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		q.commit(batch)
	}
}

// commit applies a batch in one transaction. When that fails, each op is
// tried in a transaction of its own, so one failing op fails alone.
func (q *Bolt) commit(batch []*op) {
	err := q.db.Update(func(tx *bolt.Tx) error {
		for _, o := range batch {
			if err := o.apply(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			q.commit([]*op{o})
		}
		return
	}
	if err == nil {
		q.mu.Lock()
		wake := false
		for _, o := range batch {
			if o.done != nil {
				o.done()
				wake = true
			}
		}
		if wake {
			q.broadcast()
		}
		q.mu.Unlock()
	} else {
		err = q.mapErr(err)
	}
	for _, o := range batch {
		o.res <- err
	}
}

// mapErr turns the database's "closed" into ErrClosed.
func (q *Bolt) mapErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return fmt.Errorf("queue: %w", err)
}
