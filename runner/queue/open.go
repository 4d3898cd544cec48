package queue

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/internal/schemes"
)

// Opener opens a Queue on target, the part of a URL after "scheme://".
type Opener func(ctx context.Context, target string, opts Options) (Queue, error)

var registry = schemes.New[Opener]("queue", "bolt://PATH, file://PATH or PATH (embedded bbolt file)", "bolt", "file")

// Register makes Open accept scheme://TARGET URLs. Implementations outside
// this package call it from an init function, so a program supports a
// scheme by importing its package, as for lock.Open and store.Open. form
// describes the URL for error messages.
func Register(scheme, form string, open Opener) { registry.Register(scheme, form, open) }

// Open returns the Queue a URL names: bolt://PATH, file://PATH or a plain
// PATH for a bbolt file owned by this process, or a scheme registered by
// an implementation package.
func Open(ctx context.Context, url string, opts Options) (Queue, error) {
	if url == "" {
		return nil, fmt.Errorf("empty queue URL: use %s", registry.Forms())
	}
	scheme, target, hasScheme := strings.Cut(url, "://")
	if !hasScheme {
		return OpenBolt(url, opts)
	}
	if scheme == "bolt" || scheme == "file" {
		if target == "" {
			return nil, fmt.Errorf("queue URL %q names no file: use %s://PATH", url, scheme)
		}
		return OpenBolt(target, opts)
	}
	open, ok := registry.Lookup(scheme)
	if !ok {
		return nil, fmt.Errorf("unsupported queue URL %q: use %s", url, registry.Forms())
	}
	q, err := open(ctx, target, opts)
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", url, err)
	}
	return q, nil
}
