package queue

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketItems  = []byte("items")  // seq → record
	bucketDedup  = []byte("dedup")  // ID → put time (8 bytes, unix ns)
	bucketDedupT = []byte("dedupt") // put time + ID → nothing: dedup records by age
	bucketDead   = []byte("dead")   // seq → DeadItem
)

// Bolt is a Queue in a bbolt file. Items, deduplication records and dead
// letters live in the file; which items are in flight lives in memory, and
// the file records each delivery before it is handed out so that a crash
// counts it.
type Bolt struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	ops  chan *op        // to the writer
	life context.Context // done when the queue closes
	end  context.CancelFunc
	wg   sync.WaitGroup
	stop sync.Once

	mu        sync.Mutex
	idx       *index
	leases    map[uint64]held // seq → its live lease
	nextToken uint64
	wake      chan struct{} // closed and replaced whenever an item may have become ready
	closed    bool
}

// held is a live lease: the token in its handle and its group's index key.
type held struct {
	token uint64
	group string
}

var _ Queue = (*Bolt)(nil)

// OpenBolt opens or creates the queue file at path. One open queue owns
// the file: a second OpenBolt of it, in any process, fails after a
// second. Items that were in flight when the previous owner stopped are
// pending again, in their places, with that delivery counted; those that
// had used their last attempt go to the dead letters.
func OpenBolt(path string, opts Options) (*Bolt, error) {
	opts = opts.WithDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("queue: %s is locked by another open queue (is another strata server using the same data directory?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	life, end := context.WithCancel(context.Background())
	q := &Bolt{
		life:   life,
		end:    end,
		db:     db,
		opts:   opts,
		log:    opts.Logger,
		ops:    make(chan *op),
		idx:    newIndex(),
		leases: map[uint64]held{},
		wake:   make(chan struct{}),
	}
	if err := q.recover(); err != nil {
		end()
		db.Close()
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	q.wg.Add(2)
	go q.writer()
	go q.janitor()
	return q, nil
}

// recover creates the buckets and loads the index, returning the leases of
// a stopped process to the queue.
func (q *Bolt) recover() error {
	var requeued, died int
	err := q.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketItems, bucketDedup, bucketDedupT, bucketDead} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		items := tx.Bucket(bucketItems)
		var leased []uint64
		err := items.ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("item %x: %w", k, err)
			}
			seq := binary.BigEndian.Uint64(k)
			if r.Leased {
				leased = append(leased, seq)
				if r.Attempts >= q.opts.MaxAttempts {
					return nil
				}
			}
			q.idx.add(entry{seq: seq, group: groupKey(r.Item.Group, seq), notBefore: r.NotBefore})
			return nil
		})
		if err != nil {
			return err
		}
		for _, seq := range leased {
			r, err := getRecord(items, seq)
			if err != nil {
				return err
			}
			if r.Attempts >= q.opts.MaxAttempts {
				reason := fmt.Sprintf("the queue stopped while delivery %d of %d was in flight", r.Attempts, q.opts.MaxAttempts)
				if err := q.bury(tx, seq, r, reason); err != nil {
					return err
				}
				died++
				continue
			}
			r.Leased = false
			if err := putRecord(items, seq, r); err != nil {
				return err
			}
			requeued++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if requeued+died > 0 {
		q.log.Warn("queue: returned the leases of a stopped process",
			"requeued", requeued, "dead_lettered", died)
	}
	return nil
}

// Put implements Queue.
func (q *Bolt) Put(ctx context.Context, item Item) (bool, error) {
	if err := item.Validate(); err != nil {
		return false, err
	}
	now := q.opts.Now()
	var accepted bool
	var e entry
	apply := func(tx *bolt.Tx) error {
		accepted = false
		items, dedup, dedupT := tx.Bucket(bucketItems), tx.Bucket(bucketDedup), tx.Bucket(bucketDedupT)
		id := []byte(item.ID)
		if prev := dedup.Get(id); prev != nil {
			t := decodeTime(prev)
			if now.Sub(t) < q.opts.DedupWindow {
				return nil
			}
			if err := dedupT.Delete(dedupTimeKey(t, item.ID)); err != nil {
				return err
			}
		}
		seq, err := items.NextSequence()
		if err != nil {
			return err
		}
		if err := putRecord(items, seq, record{Item: item, Enqueued: now}); err != nil {
			return err
		}
		if err := dedup.Put(id, encodeTime(now)); err != nil {
			return err
		}
		if err := dedupT.Put(dedupTimeKey(now, item.ID), nil); err != nil {
			return err
		}
		accepted = true
		e = entry{seq: seq, group: groupKey(item.Group, seq)}
		return nil
	}
	done := func() {
		if accepted {
			q.idx.add(e)
		}
	}
	if err := q.write(ctx, apply, done); err != nil {
		return false, err
	}
	return accepted, nil
}

// Take implements Queue. It waits on a channel that every change which can
// make an item ready closes, and on a timer for the earliest delayed item.
func (q *Bolt) Take(ctx context.Context) (*Lease, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrClosed
		}
		e, ok, wakeAt := q.idx.pick(q.opts.Now())
		if ok {
			q.nextToken++
			token := q.nextToken
			q.leases[e.seq] = held{token: token, group: e.group}
			q.mu.Unlock()
			l, err := q.deliver(ctx, e.seq, token)
			if err != nil {
				q.mu.Lock()
				delete(q.leases, e.seq)
				q.idx.putBack(e)
				q.broadcast()
				q.mu.Unlock()
				return nil, err
			}
			return l, nil
		}
		wake := q.wake
		q.mu.Unlock()

		if err := q.wait(ctx, wake, wakeAt); err != nil {
			return nil, err
		}
	}
}

// wait blocks until wake is closed, the clock reaches wakeAt (when set),
// ctx is done or the queue closes.
func (q *Bolt) wait(ctx context.Context, wake <-chan struct{}, wakeAt time.Time) error {
	var timer <-chan time.Time
	if !wakeAt.IsZero() {
		t := time.NewTimer(wakeAt.Sub(q.opts.Now()))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-q.life.Done():
		return ErrClosed
	case <-wake:
	case <-timer:
	}
	return nil
}

// deliver records a delivery of item seq in the file and builds its lease.
func (q *Bolt) deliver(ctx context.Context, seq, token uint64) (*Lease, error) {
	var r record
	err := q.write(ctx, func(tx *bolt.Tx) error {
		items := tx.Bucket(bucketItems)
		var err error
		if r, err = getRecord(items, seq); err != nil {
			return err
		}
		r.Attempts++
		r.Leased = true
		r.NotBefore = time.Time{}
		return putRecord(items, seq, r)
	}, nil)
	if err != nil {
		return nil, err
	}
	return &Lease{
		Item:     r.Item,
		Attempt:  r.Attempts,
		Enqueued: r.Enqueued,
		Handle:   strconv.FormatUint(seq, 10) + "/" + strconv.FormatUint(token, 10),
	}, nil
}

// Ack implements Queue.
func (q *Bolt) Ack(ctx context.Context, l *Lease) error {
	seq, h, err := q.claim(l)
	if err != nil {
		return err
	}
	err = q.write(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketItems).Delete(seqKey(seq))
	}, func() {
		q.idx.finish(h.group)
	})
	if err != nil {
		q.unclaim(seq, h)
	}
	return err
}

// Release implements Queue.
func (q *Bolt) Release(ctx context.Context, l *Lease, retryAfter time.Duration) error {
	seq, h, err := q.claim(l)
	if err != nil {
		return err
	}
	notBefore := q.opts.Now().Add(max(retryAfter, 0))
	var dead bool
	err = q.write(ctx, func(tx *bolt.Tx) error {
		items := tx.Bucket(bucketItems)
		r, err := getRecord(items, seq)
		if err != nil {
			return err
		}
		if dead = r.Attempts >= q.opts.MaxAttempts; dead {
			return q.bury(tx, seq, r, fmt.Sprintf("released after %d of %d attempts", r.Attempts, q.opts.MaxAttempts))
		}
		r.Leased = false
		r.NotBefore = notBefore
		return putRecord(items, seq, r)
	}, func() {
		if dead {
			q.idx.finish(h.group)
		} else {
			q.idx.putBack(entry{seq: seq, group: h.group, notBefore: notBefore})
		}
	})
	if err != nil {
		q.unclaim(seq, h)
		return err
	}
	if dead {
		q.log.Error("queue: item moved to the dead letters",
			"id", l.Item.ID, "group", l.Item.Group, "kind", l.Item.Kind, "attempts", l.Attempt)
	}
	return nil
}

// Fail implements Queue.
func (q *Bolt) Fail(ctx context.Context, l *Lease, reason string) error {
	seq, h, err := q.claim(l)
	if err != nil {
		return err
	}
	err = q.write(ctx, func(tx *bolt.Tx) error {
		r, err := getRecord(tx.Bucket(bucketItems), seq)
		if err != nil {
			return err
		}
		return q.bury(tx, seq, r, reason)
	}, func() {
		q.idx.finish(h.group)
	})
	if err != nil {
		q.unclaim(seq, h)
		return err
	}
	q.log.Error("queue: item moved to the dead letters",
		"id", l.Item.ID, "group", l.Item.Group, "kind", l.Item.Kind, "attempts", l.Attempt, "reason", reason)
	return nil
}

// claim checks that l is the live lease of its item and takes it, so that
// two concurrent Acks or Releases of one lease cannot both act. The group
// stays in flight until the caller finishes or unclaims.
func (q *Bolt) claim(l *Lease) (uint64, held, error) {
	s, t, ok := strings.Cut(l.Handle, "/")
	seq, err1 := strconv.ParseUint(s, 10, 64)
	token, err2 := strconv.ParseUint(t, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, held{}, fmt.Errorf("queue: malformed lease handle %q", l.Handle)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, held{}, ErrClosed
	}
	h, ok := q.leases[seq]
	if !ok || h.token != token {
		return 0, held{}, ErrLeaseLost
	}
	delete(q.leases, seq)
	return seq, h, nil
}

// unclaim gives a lease back after its Ack or Release failed, so the
// caller may try again.
func (q *Bolt) unclaim(seq uint64, h held) {
	q.mu.Lock()
	q.leases[seq] = h
	q.mu.Unlock()
}

// Len implements Queue.
func (q *Bolt) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, ErrClosed
	}
	return q.idx.count, nil
}

// Dead implements Queue.
func (q *Bolt) Dead(ctx context.Context) ([]DeadItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []DeadItem
	err := q.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			var d DeadItem
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dead item %x: %w", k, err)
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, q.mapErr(err)
	}
	return out, nil
}

// DeadLen implements Queue.
func (q *Bolt) DeadLen(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := q.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketDead).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, q.mapErr(err)
	}
	return n, nil
}

// Close implements Queue. It waits for Puts already handed to the writer.
func (q *Bolt) Close() error {
	var err error
	q.stop.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.end()
		q.mu.Unlock()
		q.wg.Wait()
		err = q.db.Close()
	})
	return err
}

// broadcast wakes every waiting taker. The caller holds q.mu.
func (q *Bolt) broadcast() {
	close(q.wake)
	q.wake = make(chan struct{})
}
