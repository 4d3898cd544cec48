package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// LastScan is what the last drift scan of a repository found, for the
// web page (package runner/ui).
type LastScan struct {
	Run       string
	Ref       string
	Commit    string
	ScannedAt time.Time
	// Stacks are every stack scanned; Drifted and Failed are among them.
	Stacks  []string
	Drifted []string
	Failed  []string
	// Issues maps each drifted stack with an open issue to its number.
	Issues map[string]int64
	Error  string
}

// ReadLastScan reads the last scan of repo from st; ok is false when the
// repository was never scanned.
func ReadLastScan(ctx context.Context, st store.Store, repo forge.RepoRef) (scan LastScan, ok bool, err error) {
	data, err := st.Get(ctx, records.DriftStateKey(repo))
	if errors.Is(err, store.ErrNotFound) {
		return LastScan{}, false, nil
	}
	if err != nil {
		return LastScan{}, false, err
	}
	var s scanState
	if err := json.Unmarshal(data, &s); err != nil {
		return LastScan{}, false, fmt.Errorf("%s: %w", records.DriftStateKey(repo), err)
	}
	return LastScan{Run: s.Run, Ref: s.Ref, Commit: s.Commit, ScannedAt: s.ScannedAt, Stacks: s.Stacks,
		Drifted: s.Drifted, Failed: s.Failed, Issues: s.Issues, Error: s.Error}, true, nil
}
