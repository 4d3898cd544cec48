package store

import (
	"context"

	"github.com/strata-iac/strata/internal/redact"
)

// Redacted is s with every secret r knows masked in the data written,
// except under keys keep says hold binary data that must stay as it is
// (plan files, whose checksum the apply verifies). It is the store's part
// of "no text strata writes holds a secret": run records, merge-request
// state, comments, plan JSON and text.
func Redacted(s Store, r *redact.Redactor, keep func(key string) bool) Store {
	return redacted{Store: s, r: r, keep: keep}
}

type redacted struct {
	Store
	r    *redact.Redactor
	keep func(string) bool
}

func (d redacted) Put(ctx context.Context, key string, data []byte) (string, error) {
	if d.keep == nil || !d.keep(key) {
		data = d.r.Bytes(data)
	}
	return d.Store.Put(ctx, key, data)
}

func (d redacted) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	if d.keep == nil || !d.keep(key) {
		data = d.r.Bytes(data)
	}
	return d.Store.PutIf(ctx, key, data, ifMatch)
}
