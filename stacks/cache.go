package stacks

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// The module-call cache maps a git blob hash to the local module calls of
// that file. A blob's content never changes, so an entry never goes stale;
// the file holds a format version and a checksum, and anything that does not
// match is ignored and rebuilt.
const (
	cacheMagic   = "strata module-call cache\n"
	cacheVersion = 1
	cacheName    = "modcalls-v1.gob"
	// cacheMaxEntries bounds the file: past it, only the entries used by
	// the last run are kept.
	cacheMaxEntries = 500_000
)

type callCache struct {
	mu    sync.Mutex
	path  string // "" when there is nowhere to keep the cache
	m     map[plumbing.Hash]fileCalls
	used  map[plumbing.Hash]bool
	dirty bool
}

type cacheFile struct {
	Version int
	Entries map[plumbing.Hash]fileCalls
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

func openCallCache() *callCache {
	c := &callCache{m: map[plumbing.Hash]fileCalls{}, used: map[plumbing.Hash]bool{}}
	if dir := CacheDir(); dir != "" {
		c.path = filepath.Join(dir, cacheName)
		c.load()
	}
	return c
}

func (c *callCache) load() {
	data, err := os.ReadFile(c.path)
	if err != nil || len(data) < len(cacheMagic)+sha256.Size || string(data[:len(cacheMagic)]) != cacheMagic {
		return
	}
	sum, payload := data[len(cacheMagic):len(cacheMagic)+sha256.Size], data[len(cacheMagic)+sha256.Size:]
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], sum) {
		return
	}
	var f cacheFile
	if gob.NewDecoder(bytes.NewReader(payload)).Decode(&f) != nil || f.Version != cacheVersion || f.Entries == nil {
		return
	}
	c.m = f.Entries
}

func (c *callCache) get(h plumbing.Hash) (fileCalls, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc, ok := c.m[h]
	if ok {
		c.used[h] = true
	}
	return fc, ok
}

func (c *callCache) put(h plumbing.Hash, fc fileCalls) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[h] = fc
	c.used[h] = true
	c.dirty = true
}

// save writes the cache when it gained entries. It replaces the file
// atomically, so concurrent strata processes never read half a cache.
func (c *callCache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty || c.path == "" {
		return nil
	}
	entries := c.m
	if len(entries) > cacheMaxEntries {
		entries = make(map[plumbing.Hash]fileCalls, len(c.used))
		for h := range c.used {
			entries[h] = c.m[h]
		}
	}
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(cacheFile{Version: cacheVersion, Entries: entries}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return nil // no writable cache dir: run uncached rather than fail
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), cacheName+".*")
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(payload.Bytes())
	_, werr := tmp.Write(append(append([]byte(cacheMagic), sum[:]...), payload.Bytes()...))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return nil
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return nil
	}
	c.dirty = false
	return nil
}
