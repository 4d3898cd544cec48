package store

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/redact"
)

func TestRedactedMasksAllButKeptKeys(t *testing.T) {
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const leak = "hook-secret-0123456789"
	s := Redacted(d, redact.New(leak), func(key string) bool { return strings.HasSuffix(key, ".tfplan") })
	ctx := context.Background()
	for _, key := range []string{"runs/r1.json", "live/app/plan.json", "live/app/plan.tfplan"} {
		if _, err := s.Put(ctx, key, []byte(`{"error":"`+leak+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutIf(ctx, "mr/state.json", []byte(`{"error":"`+leak+`"}`), ""); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"runs/r1.json":         `{"error":"[redacted]"}`,
		"live/app/plan.json":   `{"error":"[redacted]"}`,
		"live/app/plan.tfplan": `{"error":"` + leak + `"}`,
		"mr/state.json":        `{"error":"[redacted]"}`,
	} {
		got, err := d.Get(ctx, key)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", key, got, err, want)
		}
	}
}
