package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Store keeps bytes under slash-separated keys. Put records the SHA-256 of
// the data with the object; Get verifies it and fails with a *ChecksumError
// when the bytes read are not the bytes written. A Put is atomic: a reader
// sees the whole object or none of it.
//
// GetTagged and PutIf make read-modify-write safe between processes that
// share a store (replicas): an object's entity tag changes whenever its
// content does, and PutIf writes only while the tag is still the one the
// writer read. Tags are derived from the content, so two writes of the same
// bytes may give the same tag; a PutIf then succeeds on content equal to
// what its writer read, which is all a read-modify-write needs.
type Store interface {
	// Put writes data under key and returns its hex SHA-256.
	Put(ctx context.Context, key string, data []byte) (sha256 string, err error)
	// Get reads key, verifying its checksum. A missing key gives an error
	// matching ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetTagged reads key like Get and also returns its entity tag, for
	// PutIf.
	GetTagged(ctx context.Context, key string) (data []byte, etag string, err error)
	// PutIf writes data under key only if the object's entity tag is still
	// ifMatch or, when ifMatch is "", only if key is absent. When the
	// condition does not hold nothing is written and the error matches
	// ErrPreconditionFailed. It returns the new entity tag.
	PutIf(ctx context.Context, key string, data []byte, ifMatch string) (etag string, err error)
	// List returns the keys under prefix ("" for all), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages, e.g. "s3://bucket/prefix".
	String() string
}

// ErrNotFound means no object has that key.
var ErrNotFound = errors.New("not found")

// ErrPreconditionFailed means a PutIf found the object changed (or
// created, or deleted) since its writer read it: read it again and retry.
var ErrPreconditionFailed = errors.New("precondition failed: the object changed since it was read")

// ErrChecksum means an object's bytes do not match the checksum recorded
// when it was written.
var ErrChecksum = errors.New("checksum mismatch")

// ChecksumError names the object whose content changed after it was written.
type ChecksumError struct {
	Key, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: checksum mismatch: recorded sha256 %s, content has %s (the object was modified or truncated after it was written)", e.Key, e.Want, e.Got)
}

func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// Verify checks data against the hex SHA-256 recorded for key, returning a
// *ChecksumError when they differ.
func Verify(key, want string, data []byte) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return &ChecksumError{Key: key, Want: want, Got: got}
	}
	return nil
}
