package tf

import (
	"context"
	"path/filepath"

	"github.com/strata-iac/strata/internal/flock"
)

// PluginCache is the provider plugin cache every run and every strata
// process shares (plugin_cache_dir in strata's CLI config). terraform init
// writes into it without locking, so an init that may install providers
// holds the cache's file lock, DIR/../plugins.lock; plan, show and apply
// never take it.
type PluginCache struct {
	// Dir is the cache directory.
	Dir string
}

// Lock waits for the cache's lock until ctx ends and returns its release.
func (c PluginCache) Lock(ctx context.Context) (func(), error) {
	l, err := flock.Exclusive(ctx, filepath.Join(filepath.Dir(c.Dir), "plugins.lock"))
	if err != nil {
		return nil, err
	}
	return l.Unlock, nil
}
