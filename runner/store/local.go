package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/strata-iac/strata/internal/flock"
)

// Layout of a Dir's own records under its root; see the package doc.
const (
	sumDir   = reserved + "/sha256"
	lockName = reserved + "/lock"
	tmpGlob  = reserved + "-tmp-*"
)

// Dir is a Store in a local directory: each key is a plain file at
// ROOT/KEY, so a Dir can also be a plan's --out directory.
type Dir struct{ root string }

var _ Store = (*Dir)(nil)

// OpenDir opens the store rooted at dir, creating dir when missing.
func OpenDir(dir string) (*Dir, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// Root is the absolute path of the directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) String() string { return d.root }

func (d *Dir) Put(ctx context.Context, key string, data []byte) (string, error) {
	return d.put(ctx, key, data, nil)
}

// PutIf implements store.Store. A Dir's entity tag is the recorded hex
// SHA-256; the condition is checked and the object published under the
// exclusive lock, so PutIf is atomic against every process using the
// directory.
func (d *Dir) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	return d.put(ctx, key, data, func(dataPath, sumPath string) error {
		cur, err := d.currentTag(dataPath, sumPath)
		if err != nil {
			return err
		}
		if cur != ifMatch {
			return ErrPreconditionFailed
		}
		return nil
	})
}

// put writes key; check, when set, runs under the exclusive lock before
// anything is published and can refuse the write.
func (d *Dir) put(ctx context.Context, key string, data []byte, check func(dataPath, sumPath string) error) (string, error) {
	if err := d.check(ctx, key); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	dataPath, sumPath := d.paths(key)
	fail := func(err error) (string, error) { return "", fmt.Errorf("store %s: put %s: %w", d.root, key, err) }
	// Write both files aside first, then publish them with two renames
	// under the exclusive lock: readers see the old pair or the new one.
	tmpData, err := writeTemp(filepath.Dir(dataPath), data)
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmpData)
	tmpSum, err := writeTemp(filepath.Dir(sumPath), []byte(hexSum+"\n"))
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmpSum)
	err = d.locked(ctx, true, func() error {
		if check != nil {
			if err := check(dataPath, sumPath); err != nil {
				return err
			}
		}
		// The checksum goes first: should the process die between the
		// renames, a new key is still absent and an old key fails its
		// checksum, so nothing half-written is ever read as complete.
		if err := os.Rename(tmpSum, sumPath); err != nil {
			return err
		}
		if err := os.Rename(tmpData, dataPath); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(sumPath)); err != nil {
			return err
		}
		return syncDir(filepath.Dir(dataPath))
	})
	if err != nil {
		return fail(err)
	}
	return hexSum, nil
}

// currentTag is the recorded sum of an object, "" when it is absent (no
// data file: a Delete or a crash between a Put's renames leaves the sum
// alone). The caller holds the lock.
func (d *Dir) currentTag(dataPath, sumPath string) (string, error) {
	if _, err := os.Lstat(dataPath); isNotExist(err) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(sumPath)
	if isNotExist(err) {
		return "", nil
	}
	return string(bytes.TrimSpace(sum)), err
}

func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	data, _, err := d.GetTagged(ctx, key)
	return data, err
}

// GetTagged implements store.Store: the tag is the recorded hex SHA-256,
// which the content was just verified against.
func (d *Dir) GetTagged(ctx context.Context, key string) ([]byte, string, error) {
	if err := d.check(ctx, key); err != nil {
		return nil, "", err
	}
	dataPath, sumPath := d.paths(key)
	var (
		f    *os.File
		want []byte
	)
	// Under the shared lock, take the recorded sum and open the data file;
	// the open file keeps its content even if a Put replaces it later.
	err := d.locked(ctx, false, func() error {
		var err error
		if f, err = os.Open(dataPath); err != nil {
			return err
		}
		if want, err = os.ReadFile(sumPath); err != nil {
			f.Close()
		}
		return err
	})
	if isNotExist(err) && f == nil {
		return nil, "", fmt.Errorf("store %s: %s: %w", d.root, key, ErrNotFound)
	}
	if isNotExist(err) {
		return nil, "", fmt.Errorf("store %s: %s: no sha256 recorded for it (written by something other than strata, or copied without %s/): %w",
			d.root, key, reserved, ErrChecksum)
	}
	if err != nil {
		return nil, "", fmt.Errorf("store %s: get %s: %w", d.root, key, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, "", fmt.Errorf("store %s: get %s: %w", d.root, key, err)
	}
	tag := string(bytes.TrimSpace(want))
	if err := Verify(key, tag, data); err != nil {
		return nil, "", err
	}
	return data, tag, nil
}

func (d *Dir) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Walk only the directory the prefix names, after checking it cannot
	// leave the root.
	start := d.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		if err := CheckKey(prefix[:i]); err != nil {
			return nil, fmt.Errorf("list prefix %q: %w", prefix, err)
		}
		start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	} else if i == 0 {
		return nil, fmt.Errorf("list prefix %q: keys are relative, slash-separated paths", prefix)
	}
	keys := []string{}
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if strings.HasPrefix(e.Name(), reserved) && p != d.root {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: list %q: %w", d.root, prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := d.check(ctx, key); err != nil {
		return err
	}
	dataPath, sumPath := d.paths(key)
	err := d.locked(ctx, true, func() error {
		// Data first: a key without data is absent whatever its sum says.
		if err := os.Remove(dataPath); err != nil && !isNotExist(err) {
			return err
		}
		if err := os.Remove(sumPath); err != nil && !isNotExist(err) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s: delete %s: %w", d.root, key, err)
	}
	return nil
}

func (d *Dir) check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return CheckKey(key)
}

// paths returns where key's data and recorded sum live.
func (d *Dir) paths(key string) (data, sum string) {
	return filepath.Join(d.root, filepath.FromSlash(key)),
		filepath.Join(d.root, filepath.FromSlash(path.Join(sumDir, key)))
}

// locked runs fn holding the store's file lock, shared or exclusive, which
// orders the two renames of a Put against readers in any process. A store
// nobody has written to has no lock file, and readers need none.
func (d *Dir) locked(ctx context.Context, exclusive bool, fn func() error) error {
	name := filepath.Join(d.root, filepath.FromSlash(lockName))
	var l *flock.Lock
	var err error
	if exclusive {
		l, err = flock.Exclusive(ctx, name)
	} else if l, err = flock.Shared(ctx, name); isNotExist(err) {
		return fn()
	}
	if err != nil {
		return err
	}
	defer l.Unlock()
	return fn()
}

// writeTemp writes data to a new temporary file in dir, synced to disk,
// and returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tmpGlob)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// isNotExist also counts a path through a regular file ("a/b" where "a"
// is a file) as absent.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
