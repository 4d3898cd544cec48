package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestPrefixedKeepsKeysUnderItsPrefix(t *testing.T) {
	ctx := context.Background()
	root, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := Prefixed(root, "mr/gitlab/acme/infra/3/plans/abc/")
	if _, err := p.Put(ctx, "live/app/plan.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if data, err := root.Get(ctx, "mr/gitlab/acme/infra/3/plans/abc/live/app/plan.json"); err != nil || string(data) != "{}" {
		t.Fatalf("the object is not under the prefix: %q, %v", data, err)
	}
	if data, err := p.Get(ctx, "live/app/plan.json"); err != nil || string(data) != "{}" {
		t.Fatalf("Get through the view: %q, %v", data, err)
	}
	if keys, err := p.List(ctx, "live/"); err != nil || !reflect.DeepEqual(keys, []string{"live/app/plan.json"}) {
		t.Fatalf("List = %q, %v", keys, err)
	}
	if err := p.Delete(ctx, "live/app/plan.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Get(ctx, "mr/gitlab/acme/infra/3/plans/abc/live/app/plan.json"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
	if got, want := p.String(), root.String()+"/mr/gitlab/acme/infra/3/plans/abc"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
