package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/strata-iac/strata/internal/flock"
)

const (
	// boltBusyTimeout bounds how long an operation waits for another
	// process that holds the file.
	boltBusyTimeout = 15 * time.Second
	// boltFlockPoll is how long one attempt waits for the file lock before
	// the context is checked again.
	boltFlockPoll = 100 * time.Millisecond
)

var boltBucket = []byte("locks")

// boltLocker keeps locks in a bbolt file that it opens for each operation
// and closes right after, so that CLI processes and a running server can
// share the file: bbolt holds an exclusive flock while the file is open.
type boltLocker struct {
	path string
	opts Options
}

func openBolt(ctx context.Context, path string, opts Options) (Locker, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("locks file %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create the directory of locks file %s: %w", abs, err)
	}
	b := &boltLocker{path: abs, opts: opts}
	// Open once now, so that a bad path or a file that is not a bbolt
	// database fails here and not at first use.
	if err := b.update(ctx, func(*bbolt.Bucket) error { return nil }); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *boltLocker) Acquire(ctx context.Context, key string, owner Owner) (Lock, error) {
	if err := CheckOwner(key, owner.ID); err != nil {
		return Lock{}, err
	}
	var got Lock
	err := b.update(ctx, func(bk *bbolt.Bucket) error {
		now := time.Now()
		cur, held, err := b.read(bk, key, now)
		if err != nil {
			return err
		}
		if held && cur.Owner != owner.ID {
			return &HeldError{Lock: cur}
		}
		got = Lock{
			Key: key, Owner: owner.ID, Head: owner.Head, User: owner.User,
			AcquiredAt: now.UTC(), ExpiresAt: b.opts.ExpiresAt(now),
		}
		if held {
			got.AcquiredAt = cur.AcquiredAt
		}
		data, err := json.Marshal(got)
		if err != nil {
			return err
		}
		return bk.Put([]byte(key), data)
	})
	if err != nil {
		return Lock{}, err
	}
	return got, nil
}

func (b *boltLocker) Release(ctx context.Context, key, ownerID string) error {
	if err := CheckOwner(key, ownerID); err != nil {
		return err
	}
	return b.update(ctx, func(bk *bbolt.Bucket) error {
		cur, held, err := b.read(bk, key, time.Now())
		if err != nil {
			return err
		}
		if !held {
			return &NotHolderError{Key: key, Owner: ownerID}
		}
		if cur.Owner != ownerID {
			return &NotHolderError{Key: key, Owner: ownerID, Holder: &cur}
		}
		return bk.Delete([]byte(key))
	})
}

func (b *boltLocker) ForceRelease(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	return b.update(ctx, func(bk *bbolt.Bucket) error { return bk.Delete([]byte(key)) })
}

func (b *boltLocker) Get(ctx context.Context, key string) (Lock, bool, error) {
	if err := CheckKey(key); err != nil {
		return Lock{}, false, err
	}
	var (
		l    Lock
		held bool
	)
	err := b.view(ctx, func(bk *bbolt.Bucket) error {
		var err error
		l, held, err = b.read(bk, key, time.Now())
		return err
	})
	if err != nil || !held {
		return Lock{}, false, err
	}
	return l, true, nil
}

func (b *boltLocker) List(ctx context.Context) ([]Lock, error) {
	locks := []Lock{}
	err := b.view(ctx, func(bk *bbolt.Bucket) error {
		now := time.Now()
		// bbolt iterates keys in byte order, which is Go's string order.
		return bk.ForEach(func(k, v []byte) error {
			l, held, err := b.decode(string(k), v, now)
			if held {
				locks = append(locks, l)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return locks, nil
}

// Close frees nothing: the file is open only during an operation.
func (b *boltLocker) Close() error { return nil }

// read returns the lock on key; held is false when there is none or its
// lease has expired at now.
func (b *boltLocker) read(bk *bbolt.Bucket, key string, now time.Time) (Lock, bool, error) {
	return b.decode(key, bk.Get([]byte(key)), now)
}

func (b *boltLocker) decode(key string, data []byte, now time.Time) (Lock, bool, error) {
	if data == nil {
		return Lock{}, false, nil
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return Lock{}, false, fmt.Errorf("locks file %s: the record of %s is corrupt: %w", b.path, key, err)
	}
	if l.Expired(now) {
		return Lock{}, false, nil
	}
	return l, true, nil
}

func (b *boltLocker) update(ctx context.Context, fn func(*bbolt.Bucket) error) error {
	return b.withDB(ctx, func(db *bbolt.DB) error {
		return db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(boltBucket)
			if err != nil {
				return err
			}
			return fn(bk)
		})
	})
}

func (b *boltLocker) view(ctx context.Context, fn func(*bbolt.Bucket) error) error {
	return b.withDB(ctx, func(db *bbolt.DB) error {
		return db.View(func(tx *bbolt.Tx) error {
			bk := tx.Bucket(boltBucket)
			if bk == nil {
				return nil
			}
			return fn(bk)
		})
	})
}

// withDB runs fn with the file open and exclusively locked. Goroutines
// and processes take turns on the file lock of PATH.lock, cancellably;
// bbolt's own lock on the file then finds it free.
func (b *boltLocker) withDB(ctx context.Context, fn func(*bbolt.DB) error) error {
	wait, cancel := context.WithTimeout(ctx, boltBusyTimeout)
	defer cancel()
	turn, err := flock.Exclusive(wait, b.path+".lock")
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("locks file %s is busy: another process has held it for more than %s", b.path, boltBusyTimeout)
	case err != nil:
		return fmt.Errorf("locks file %s: %w", b.path, err)
	}
	defer turn.Unlock()
	db, err := b.open(ctx)
	if err != nil {
		return err
	}
	err = fn(db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("locks file %s: %w", b.path, cerr)
	}
	return err
}

func (b *boltLocker) open(ctx context.Context) (*bbolt.DB, error) {
	give := time.Now().Add(boltBusyTimeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("locks file %s: %w", b.path, err)
		}
		db, err := bbolt.Open(b.path, 0o600, &bbolt.Options{Timeout: boltFlockPoll})
		if err == nil {
			return db, nil
		}
		if !errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open locks file %s: %w", b.path, err)
		}
		if time.Now().After(give) {
			return nil, fmt.Errorf("locks file %s is busy: another process has held it for more than %s", b.path, boltBusyTimeout)
		}
	}
}
