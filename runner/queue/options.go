package queue

import (
	"log/slog"
	"time"
)

// Options configures a queue (OpenBolt, or Open for any scheme). The
// zero value gives the defaults; an implementation ignores what does not
// apply to it, as each field says.
type Options struct {
	// DedupWindow is how long an item's ID is remembered to drop repeats.
	// Default 24h.
	DedupWindow time.Duration
	// MaxAttempts is how many deliveries an item gets before a Release
	// moves it to the dead letters. Default 5.
	MaxAttempts int
	// PruneInterval is how often deduplication records older than the
	// window are deleted. Default 10 minutes.
	PruneInterval time.Duration
	// Lease is how long a taken item stays leased without being renewed,
	// in a queue whose leases expire (SQS's visibility timeout; the queue
	// renews it every third of that while the item is held). Bolt's leases
	// never expire. Default 1 minute.
	Lease time.Duration
	// Dedup, when set, remembers item IDs for DedupWindow in a queue
	// whose own deduplication is shorter (SQS). Bolt keeps its own.
	Dedup Dedup
	// Logger receives recovery and pruning notes. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// WithDefaults returns opts with its zero fields set to their defaults.
func (opts Options) WithDefaults() Options {
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = 24 * time.Hour
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	return opts
}
