package tf

import (
	"strings"
	"testing"
	"time"
)

// lockError is what terraform 1.11 prints when the state lock is held, with
// and without the borders of its diagnostics.
const lockError = `Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        9ab72345-c46e-71f7-1936-0e3aea60f004
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.11.4
  Created:   2026-12-01 22:29:23.742502521 +0000 UTC
  Info:      


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.`

func TestParseLockInfo(t *testing.T) {
	want := LockInfo{ID: "9ab72345-c46e-71f7-1936-0e3aea60f004", Path: "terraform.tfstate", Operation: "OperationTypeApply",
		Who: "root@vm", Version: "1.11.4", Created: time.Date(2026, 12, 1, 22, 29, 23, 742502521, time.UTC)}
	for name, text := range map[string]string{"plain": lockError, "bordered": bordered(lockError)} {
		got, ok := ParseLockInfo(text)
		if !ok || got.ID != want.ID || got.Path != want.Path || got.Operation != want.Operation || got.Who != want.Who ||
			got.Version != want.Version || !got.Created.Equal(want.Created) {
			t.Errorf("%s: %+v, %v; want %+v", name, got, ok, want)
		}
	}
	if _, ok := ParseLockInfo("Error: Unsupported block type"); ok {
		t.Error("lock info found in an unrelated error")
	}
}

func bordered(s string) string {
	return "╷\n│ " + strings.ReplaceAll(s, "\n", "\n│ ") + "\n╵\n"
}
