package queue

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// payload is the size of a queued webhook event.
var payload = []byte(strings.Repeat("x", 2048))

// BenchmarkPut measures what a webhook handler waits for before it answers
// 202: one durable Put. Each iteration puts a fixed number of items so the
// figures mean something at -benchtime 1x:
//
//   - serial: one caller at a time; every Put pays a full fsync.
//   - concurrent: 32 callers at once, the worst burst a forge sends; Puts
//     share transactions.
//   - paced-200-per-s: an open-loop arrival rate of 200 events/s, the
//     server's target load, whose p99 must stay under 10 ms; latencies
//     include waiting behind a slow fsync, as a webhook would.
//   - paced-200-per-s-with-takers: the same while 4 workers take and ack
//     every item, whose transactions compete with the Puts.
//   - bolt-update and bolt-batch: the same burst written straight to bbolt
//     with one db.Update per item and with db.Batch, for comparison with
//     the queue's own batching.
//   - fsync-200-per-s: the disk alone, a 2 KiB write and an fsync at
//     200/s: the floor under every figure above on the same machine.
func BenchmarkPut(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchPuts(b, 2000, 1, 0, queuePut) })
	b.Run("concurrent", func(b *testing.B) { benchPuts(b, 10000, 32, 0, queuePut) })
	b.Run("paced-200-per-s", func(b *testing.B) { benchPuts(b, 1000, 0, 200, queuePut) })
	b.Run("paced-200-per-s-with-takers", func(b *testing.B) { benchPuts(b, 1000, 0, 200, queueWithTakers(4)) })
	b.Run("bolt-update", func(b *testing.B) { benchPuts(b, 2000, 32, 0, boltPut(false)) })
	b.Run("bolt-batch", func(b *testing.B) { benchPuts(b, 2000, 32, 0, boltPut(true)) })
	b.Run("fsync-200-per-s", func(b *testing.B) { benchPuts(b, 1000, 0, 200, fsyncPut) })
}

// putter builds a put function writing under dir.
type putter func(b *testing.B, dir string) (put func(i int), close func())

func queuePut(b *testing.B, dir string) (func(int), func()) {
	q, err := OpenBolt(filepath.Join(dir, "queue.db"), Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	return func(i int) {
		ok, err := q.Put(context.Background(), Item{ID: fmt.Sprint("delivery-", i), Group: fmt.Sprint("mr-", i%50), Payload: payload})
		if err != nil || !ok {
			b.Errorf("Put: %v, %v", ok, err)
		}
	}, func() { q.Close() }
}

// queueWithTakers is queuePut with workers taking and acking items.
func queueWithTakers(workers int) putter {
	return func(b *testing.B, dir string) (func(int), func()) {
		q, err := OpenBolt(filepath.Join(dir, "queue.db"), Options{Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					l, err := q.Take(ctx)
					if err != nil {
						return
					}
					if err := q.Ack(ctx, l); err != nil {
						return
					}
				}
			})
		}
		return func(i int) {
				ok, err := q.Put(ctx, Item{ID: fmt.Sprint("delivery-", i), Group: fmt.Sprint("mr-", i%50), Payload: payload})
				if err != nil || !ok {
					b.Errorf("Put: %v, %v", ok, err)
				}
			}, func() {
				cancel()
				wg.Wait()
				q.Close()
			}
	}
}

func boltPut(batch bool) putter {
	return func(b *testing.B, dir string) (func(int), func()) {
		db, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket(bucketItems)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		write := db.Update
		if batch {
			write = db.Batch
		}
		return func(i int) {
			err := write(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketItems).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), payload)
			})
			if err != nil {
				b.Error(err)
			}
		}, func() { db.Close() }
	}
}

func fsyncPut(b *testing.B, dir string) (func(int), func()) {
	f, err := os.Create(filepath.Join(dir, "raw"))
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	return func(i int) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := f.WriteAt(payload, int64(i%64)*int64(len(payload))); err != nil {
			b.Error(err)
		}
		if err := f.Sync(); err != nil {
			b.Error(err)
		}
	}, func() { f.Close() }
}

// benchPuts runs n puts per iteration, from workers concurrent callers or,
// when rate is set, started at rate per second whatever the latency, and
// reports latency percentiles and throughput.
func benchPuts(b *testing.B, n, workers, rate int, mk putter) {
	var lat []time.Duration
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		put, closeFn := mk(b, b.TempDir())
		b.StartTimer()
		l, e := runPuts(n, workers, rate, put)
		b.StopTimer()
		closeFn()
		lat = append(lat, l...)
		elapsed += e
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "puts/s")
	b.ReportMetric(0, "ns/op")
}

func runPuts(n, workers, rate int, put func(int)) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, n)
	timed := func(i int) {
		t := time.Now()
		put(i)
		lat[i] = time.Since(t)
	}
	start := time.Now()
	var wg sync.WaitGroup
	if rate > 0 {
		interval := time.Second / time.Duration(rate)
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
			wg.Go(func() { timed(i) })
		}
	} else {
		var next atomic.Int64
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					timed(i)
				}
			})
		}
	}
	wg.Wait()
	return lat, time.Since(start)
}
