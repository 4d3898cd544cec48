package stacks

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
)

// The analysis cache is a Merkle cache: it maps a git tree hash to the
// summary of that tree (treeSum), its Terraform files with the module calls
// each makes. A summary depends on the tree's content alone, so an entry
// never goes stale, whatever commit the tree appears in and at whatever
// path: everything that depends on other trees (where a module source or a
// symlink leads, which directories are called, which are stacks, what a
// symlinked file says) is worked out again on every run from these parts.
// A run reads from git only the trees and files it has not seen before.
//
// The file holds a format version and a checksum; anything that does not
// match is ignored and rebuilt.
const (
	cacheMagic   = "strata analysis cache\n"
	cacheVersion = 2
	cacheName    = "analysis-v2.bin"
	// oldCacheName is the module-call cache of earlier versions, removed
	// when the new cache is written.
	oldCacheName = "modcalls-v1.gob"
	// cacheMaxEntries bounds the file: past it, only the trees used by
	// the last run are kept.
	cacheMaxEntries = 200_000
)

type analysisCache struct {
	path  string // "" when there is nowhere to keep the cache
	trees map[plumbing.Hash]*treeSum
	dirty bool
}

// CacheDir is where strata keeps caches: $XDG_CACHE_HOME/strata, or the
// platform's user cache directory.
func CacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "strata")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "strata")
	}
	return ""
}

func openAnalysisCache() *analysisCache {
	c := &analysisCache{trees: map[plumbing.Hash]*treeSum{}}
	if dir := CacheDir(); dir != "" {
		c.path = filepath.Join(dir, cacheName)
		c.load()
	}
	return c
}

func (c *analysisCache) load() {
	data, err := os.ReadFile(c.path)
	if err != nil || len(data) < len(cacheMagic)+sha256.Size || string(data[:len(cacheMagic)]) != cacheMagic {
		return
	}
	sum, payload := data[len(cacheMagic):len(cacheMagic)+sha256.Size], data[len(cacheMagic)+sha256.Size:]
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], sum) {
		return
	}
	if trees, ok := decodeCache(payload); ok {
		c.trees = trees
	}
}

func (c *analysisCache) tree(h plumbing.Hash) (*treeSum, bool) {
	s, ok := c.trees[h]
	if ok {
		s.used = true
	}
	return s, ok
}

func (c *analysisCache) putTree(h plumbing.Hash, s *treeSum) {
	s.used = true
	c.trees[h] = s
	c.dirty = true
}

// parsed records that a summary's files were parsed, to be saved.
func (c *analysisCache) parsed() { c.dirty = true }

// save writes the cache when it gained entries. It replaces the file
// atomically, so concurrent strata processes never read half a cache. A
// cache that cannot be written is no error: the next run is cold.
func (c *analysisCache) save() error {
	if !c.dirty || c.path == "" {
		return nil
	}
	trees := c.trees
	if len(trees) > cacheMaxEntries {
		trees = map[plumbing.Hash]*treeSum{}
		for h, s := range c.trees {
			if s.used {
				trees[h] = s
			}
		}
	}
	payload := encodeCache(trees)
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil
	}
	tmp, err := os.CreateTemp(dir, cacheName+".*")
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(payload)
	_, werr := tmp.Write(append(append([]byte(cacheMagic), sum[:]...), payload...))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return nil
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return nil
	}
	os.Remove(filepath.Join(dir, oldCacheName))
	c.dirty = false
	return nil
}
