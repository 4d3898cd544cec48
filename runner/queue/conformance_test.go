package queue_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/queue/queuetest"
)

func TestBoltConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Suite{New: func(t *testing.T, maxAttempts int) func() queue.Queue {
		path := filepath.Join(t.TempDir(), "queue.db")
		return func() queue.Queue {
			q, err := queue.OpenBolt(path, queue.Options{MaxAttempts: maxAttempts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Close() })
			return q
		}
	}})
}
