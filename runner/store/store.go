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
type Store interface {
	// Put writes data under key and returns its hex SHA-256.
	Put(ctx context.Context, key string, data []byte) (sha256 string, err error)
	// Get reads key, verifying its checksum. A missing key gives an error
	// matching ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns the keys under prefix ("" for all), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages, e.g. "s3://bucket/prefix".
	String() string
}

// ErrNotFound means no object has that key.
var ErrNotFound = errors.New("not found")

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
