package stacks

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"

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
// It also keeps the diffs of the last pairs of root trees compared: a diff
// depends on the two trees alone, and CI runs strata changed and strata
// plan, or a retried job, on the same pair again.
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
	// cacheMaxDiffs is how many diffs are kept, the last used.
	cacheMaxDiffs = 64
)

type analysisCache struct {
	path  string // "" when there is nowhere to keep the cache
	trees map[plumbing.Hash]*treeSum
	diffs map[[2]plumbing.Hash]*cachedDiff
	seq   uint64 // the highest cachedDiff.seq
	dirty bool
}

// cachedDiff is the diff of two root trees; seq orders the diffs by last
// use.
type cachedDiff struct {
	paths []changedPath
	seq   uint64
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
	c := &analysisCache{trees: map[plumbing.Hash]*treeSum{}, diffs: map[[2]plumbing.Hash]*cachedDiff{}}
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
	if trees, diffs, ok := decodeCache(payload); ok {
		c.trees, c.diffs = trees, diffs
		for _, d := range diffs {
			c.seq = max(c.seq, d.seq)
		}
	}
}

// diff returns the changed paths between two root trees, if kept. Using a
// diff makes it the newest, but is no reason to write the file.
func (c *analysisCache) diff(from, to plumbing.Hash) ([]changedPath, bool) {
	d, ok := c.diffs[[2]plumbing.Hash{from, to}]
	if !ok {
		return nil, false
	}
	c.seq++
	d.seq = c.seq
	return d.paths, true
}

func (c *analysisCache) putDiff(from, to plumbing.Hash, paths []changedPath) {
	c.seq++
	c.diffs[[2]plumbing.Hash{from, to}] = &cachedDiff{paths: paths, seq: c.seq}
	c.dirty = true
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
	diffs := c.diffs
	if len(diffs) > cacheMaxDiffs {
		seqs := make([]uint64, 0, len(diffs))
		for _, d := range diffs {
			seqs = append(seqs, d.seq)
		}
		slices.Sort(seqs)
		oldest := seqs[len(seqs)-cacheMaxDiffs]
		diffs = map[[2]plumbing.Hash]*cachedDiff{}
		for k, d := range c.diffs {
			if d.seq >= oldest {
				diffs[k] = d
			}
		}
	}
	payload := encodeCache(trees, diffs)
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
