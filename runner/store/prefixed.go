package store

import (
	"context"
	"strings"
)

// Prefixed is a view of s under prefix: its keys are relative to prefix,
// so the --out layout of one plan set or one drift scan can live under a
// merge request's or a repository's keys.
func Prefixed(s Store, prefix string) Store {
	return prefixed{s: s, prefix: strings.Trim(prefix, "/")}
}

type prefixed struct {
	s      Store
	prefix string
}

func (p prefixed) key(k string) string { return p.prefix + "/" + k }

func (p prefixed) Put(ctx context.Context, key string, data []byte) (string, error) {
	return p.s.Put(ctx, p.key(key), data)
}

func (p prefixed) Get(ctx context.Context, key string) ([]byte, error) {
	return p.s.Get(ctx, p.key(key))
}

func (p prefixed) GetTagged(ctx context.Context, key string) ([]byte, string, error) {
	return p.s.GetTagged(ctx, p.key(key))
}

func (p prefixed) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	return p.s.PutIf(ctx, p.key(key), data, ifMatch)
}

func (p prefixed) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := p.s.List(ctx, p.key(prefix))
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, p.prefix+"/")
	}
	return keys, err
}

func (p prefixed) Delete(ctx context.Context, key string) error { return p.s.Delete(ctx, p.key(key)) }

func (p prefixed) String() string { return strings.TrimSuffix(p.s.String(), "/") + "/" + p.prefix }
