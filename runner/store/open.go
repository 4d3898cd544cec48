package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-iac/strata/internal/schemes"
)

// Opener opens a Store on target, the part of a URL after "scheme://".
type Opener func(ctx context.Context, target string) (Store, error)

var registry = schemes.New[Opener]("store", "file://PATH or PATH (local directory)", "file")

// Register makes Open accept scheme://TARGET URLs. Implementations outside
// this package (s3) call it from an init function, so a program supports a
// scheme by importing its package. form describes the URL for error
// messages, e.g. "s3://BUCKET/PREFIX (S3)".
func Register(scheme, form string, open Opener) { registry.Register(scheme, form, open) }

// Open returns the Store a URL names: file://PATH or a plain PATH for a
// local directory (created when missing), or a scheme registered by an
// implementation package, such as s3://BUCKET/PREFIX.
func Open(ctx context.Context, url string) (Store, error) {
	if url == "" {
		return nil, fmt.Errorf("empty store URL: use %s", registry.Forms())
	}
	scheme, target, hasScheme := strings.Cut(url, "://")
	if !hasScheme {
		return OpenDir(url)
	}
	if scheme == "file" {
		if target == "" {
			return nil, fmt.Errorf("store URL %q names no directory: use file://PATH", url)
		}
		return OpenDir(target)
	}
	open, ok := registry.Lookup(scheme)
	if !ok {
		return nil, fmt.Errorf("unsupported store URL %q: use %s", url, registry.Forms())
	}
	s, err := open(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", url, err)
	}
	return s, nil
}

// reserved starts the path segments a store keeps for itself: the local
// directory's checksum tree, lock file and temporary files.
const reserved = ".strata"

// CheckKey refuses keys that every implementation refuses: empty ones, and
// ones that are not a clean relative slash-separated path (leading or
// trailing "/", empty, "." or ".." segments, backslashes, NUL), or whose
// segments begin with ".strata", which stores reserve for themselves.
func CheckKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("bad store key %q: %s", key, why) }
	switch {
	case key == "":
		return bad("empty")
	case strings.ContainsAny(key, "\\\x00"):
		return bad("backslash or NUL")
	case strings.HasPrefix(key, "/"):
		return bad("absolute; keys are relative, slash-separated paths")
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return bad("empty path segment")
		case seg == "." || seg == "..":
			return bad(`"." and ".." segments are not allowed`)
		case strings.HasPrefix(seg, reserved):
			return bad(`segments beginning with ".strata" are reserved for the store's own records`)
		}
	}
	return nil
}
