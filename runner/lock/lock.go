package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Owner identifies who claims a lock. ID decides ownership: Acquire by the
// same ID succeeds again (refreshing Head, User and the lease), Release
// succeeds only for the ID that holds the lock. The server uses the merge
// request reference as ID, e.g. "gitlab/acme/infra!12".
type Owner struct {
	ID   string // the merge request reference, or any string from the CLI
	Head string // commit SHA the owner planned, informational
	User string // who triggered the claim, informational
}

// Lock is a held claim.
type Lock struct {
	Key        string    `json:"key"`
	Owner      string    `json:"owner"`
	Head       string    `json:"head,omitempty"`
	User       string    `json:"user,omitempty"`
	AcquiredAt time.Time `json:"acquired_at"`
	// ExpiresAt is the end of the lease; zero means the lock never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Expired reports whether the lease of l has run out at now. An expired
// lock counts as free: Acquire takes it over, Get and List leave it out.
func (l Lock) Expired(now time.Time) bool {
	return !l.ExpiresAt.IsZero() && !now.Before(l.ExpiresAt)
}

// Locker takes and releases locks. Every implementation is safe for
// concurrent use by many goroutines and many processes or replicas.
type Locker interface {
	// Acquire claims key for owner. It succeeds when the key is free, when
	// its lease has expired, or when owner.ID already holds it; it returns
	// the lock as now held. When another owner holds the key it returns a
	// *HeldError (errors.Is(err, ErrHeld)).
	Acquire(ctx context.Context, key string, owner Owner) (Lock, error)
	// Release frees key if ownerID holds it. Otherwise it returns an error
	// matching ErrNotHolder and the lock stays as it is.
	Release(ctx context.Context, key, ownerID string) error
	// ForceRelease frees key whoever holds it. Freeing a free key is not an
	// error.
	ForceRelease(ctx context.Context, key string) error
	// Get returns the lock on key; ok is false when the key is free.
	Get(ctx context.Context, key string) (l Lock, ok bool, err error)
	// List returns every lock held, sorted by key.
	List(ctx context.Context) ([]Lock, error)
	// Close frees the resources of the Locker (not the locks).
	Close() error
}

var (
	// ErrHeld means another owner holds the lock.
	ErrHeld = errors.New("lock is held by another owner")
	// ErrNotHolder means the owner asking to release does not hold the lock.
	ErrNotHolder = errors.New("lock is not held by this owner")
)

// HeldError reports the lock that stopped an Acquire.
type HeldError struct{ Lock Lock }

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by %s since %s", e.Lock.Key, e.Lock.Owner,
		e.Lock.AcquiredAt.UTC().Format(time.RFC3339))
}

func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// NotHolderError reports a Release by an owner that does not hold the lock.
type NotHolderError struct {
	Key, Owner string
	// Holder is the lock as it stands, nil when the key is free (never
	// taken, released, or its lease expired).
	Holder *Lock
}

func (e *NotHolderError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("%s is not held by %s: the key is free", e.Key, e.Owner)
	}
	return fmt.Sprintf("%s is not held by %s: it is locked by %s since %s", e.Key, e.Owner,
		e.Holder.Owner, e.Holder.AcquiredAt.UTC().Format(time.RFC3339))
}

func (e *NotHolderError) Is(target error) bool { return target == ErrNotHolder }

// Key builds the lock key the server uses for a stack: forge, repo, stack
// directory and workspace joined by "/". An empty workspace means "default".
func Key(forge, repo, dir, workspace string) string {
	if workspace == "" {
		workspace = "default"
	}
	return strings.Join([]string{forge, repo, dir, workspace}, "/")
}

// HasStack reports whether key, built by Key, is the lock of the stack
// instance in directory dir and workspace ("" for any workspace). A key
// does not mark where the repository ends and the directory begins, so
// the match is on its last segments.
func HasStack(key, dir, workspace string) bool {
	i := strings.LastIndex(key, "/")
	if i < 0 {
		return false
	}
	rest, ws := key[:i], key[i+1:]
	if workspace != "" && ws != workspace {
		return false
	}
	return strings.HasSuffix(rest, "/"+dir)
}
