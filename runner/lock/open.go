package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-iac/strata/internal/schemes"
)

// Options tune a Locker.
type Options struct {
	// Lease is how long a lock lasts after its last Acquire; 0 means locks
	// never expire. An owner keeps a lock by acquiring it again before the
	// lease ends. Leases count whole seconds, rounded up, as DynamoDB's TTL
	// does, and every implementation rounds the same way.
	Lease time.Duration
}

// ExpiresAt is the end of a lease that starts at now: zero without a
// lease, else now+Lease rounded up to the next whole second.
func (o Options) ExpiresAt(now time.Time) time.Time {
	if o.Lease <= 0 {
		return time.Time{}
	}
	end := now.Add(o.Lease)
	t := end.Truncate(time.Second)
	if t.Before(end) {
		t = t.Add(time.Second)
	}
	return t.UTC()
}

func (o Options) validate() error {
	if o.Lease < 0 {
		return fmt.Errorf("lock lease must not be negative (got %s)", o.Lease)
	}
	return nil
}

// Opener opens a Locker on target, the part of a URL after "scheme://".
type Opener func(ctx context.Context, target string, opts Options) (Locker, error)

var registry = schemes.New[Opener]("lock", "bolt://PATH, file://PATH or PATH (embedded bbolt file)", "bolt", "file")

// Register makes Open accept scheme://TARGET URLs. Implementations outside
// this package (dynamodb) call it from an init function, so a program
// supports a scheme by importing its package. form describes the URL for
// error messages, e.g. "dynamodb://TABLE (DynamoDB)".
func Register(scheme, form string, open Opener) { registry.Register(scheme, form, open) }

// Open returns the Locker a URL names: bolt://PATH, file://PATH or a plain
// PATH for an embedded bbolt file, or a scheme registered by an
// implementation package, such as dynamodb://TABLE.
func Open(ctx context.Context, url string, opts Options) (Locker, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if url == "" {
		return nil, fmt.Errorf("empty locks URL: use %s", registry.Forms())
	}
	scheme, target, hasScheme := strings.Cut(url, "://")
	if !hasScheme {
		return openBolt(ctx, url, opts)
	}
	if isBoltScheme(scheme) {
		if target == "" {
			return nil, fmt.Errorf("locks URL %q names no file: use %s://PATH", url, scheme)
		}
		return openBolt(ctx, target, opts)
	}
	open, ok := registry.Lookup(scheme)
	if !ok {
		return nil, fmt.Errorf("unsupported locks URL %q: use %s", url, registry.Forms())
	}
	l, err := open(ctx, target, opts)
	if err != nil {
		return nil, fmt.Errorf("open locks %s: %w", url, err)
	}
	return l, nil
}

func isBoltScheme(s string) bool { return s == "bolt" || s == "file" }

// CheckKey refuses an empty key; every implementation calls it (and
// CheckOwner) first, so they all refuse the same input.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("lock key must not be empty")
	}
	return nil
}

// CheckOwner refuses an empty owner ID for key.
func CheckOwner(key, ownerID string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if ownerID == "" {
		return fmt.Errorf("lock %s: owner must not be empty", key)
	}
	return nil
}
