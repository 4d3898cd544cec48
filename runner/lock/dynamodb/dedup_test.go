package dynamodb_test

import (
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/lock/dynamodb"
)

// TestDedupRemembersUntilExpiry: a remembered delivery is seen until its
// time passes, and it never shows as a lock.
func TestDedupRemembersUntilExpiry(t *testing.T) {
	table := newTable(t)
	d, err := dynamodb.NewDedup(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	seen := func(id string) bool {
		t.Helper()
		ok, err := d.Seen(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if seen("gitlab:d1") {
		t.Fatal("a delivery never remembered is seen")
	}
	if err := d.Remember(t.Context(), "gitlab:d1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.Remember(t.Context(), "gitlab:old", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if !seen("gitlab:d1") || seen("gitlab:old") || seen("gitlab:d2") {
		t.Errorf("seen d1 %v, old %v, d2 %v; want only d1 (old has expired)", seen("gitlab:d1"), seen("gitlab:old"), seen("gitlab:d2"))
	}
	locks, err := openTable(t, table, lock.Options{}).List(t.Context())
	if err != nil || len(locks) != 0 {
		t.Errorf("List = %+v, %v; deliveries are not locks", locks, err)
	}
	if _, err := dynamodb.NewDedup(t.Context(), "no-such-table"); err == nil {
		t.Error("NewDedup on a missing table succeeded")
	}
}
