package queue

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// pruneChunk bounds the deduplication records one prune transaction
// deletes, so pruning a large backlog never holds the writer for long.
const pruneChunk = 4096

// Prune deletes the deduplication records older than the window and
// returns how many it deleted. The queue prunes by itself every
// Options.PruneInterval; expired records are ignored by Put even before
// they are pruned.
func (q *Bolt) Prune(ctx context.Context) (int, error) {
	cutoff := q.opts.Now().Add(-q.opts.DedupWindow)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := 0
		err := q.write(ctx, func(tx *bolt.Tx) error {
			dedup, dedupT := tx.Bucket(bucketDedup), tx.Bucket(bucketDedupT)
			var old [][]byte
			c := dedupT.Cursor()
			for k, _ := c.First(); k != nil && len(old) < pruneChunk; k, _ = c.Next() {
				if !decodeTime(k[:8]).Before(cutoff) {
					break
				}
				old = append(old, append([]byte(nil), k...))
			}
			for _, k := range old {
				if err := dedupT.Delete(k); err != nil {
					return err
				}
				if err := dedup.Delete(k[8:]); err != nil {
					return err
				}
			}
			n = len(old)
			return nil
		}, nil)
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// janitor prunes the deduplication records until the queue closes.
func (q *Bolt) janitor() {
	defer q.wg.Done()
	t := time.NewTicker(q.opts.PruneInterval)
	defer t.Stop()
	for {
		if n, err := q.Prune(q.life); err != nil && q.life.Err() == nil {
			q.log.Error("queue: pruning deduplication records failed", "err", err)
		} else if n > 0 {
			q.log.Debug("queue: pruned deduplication records", "count", n)
		}
		select {
		case <-q.life.Done():
			return
		case <-t.C:
		}
	}
}

// Times are stored as big-endian unix nanoseconds, so byte order is time
// order.
func encodeTime(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

func decodeTime(b []byte) time.Time { return time.Unix(0, int64(binary.BigEndian.Uint64(b))) }

// dedupTimeKey orders deduplication records by age.
func dedupTimeKey(t time.Time, id string) []byte { return append(encodeTime(t), id...) }
