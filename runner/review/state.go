package review

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

// state is what strata remembers of a merge request between events. It
// lives in the store (records.MRStateKey), never only in memory, so any
// replica can pick up where another stopped.
type state struct {
	Ref forge.MRRef `json:"ref"`
	// Head is the commit the current plans were made at; Plans is the
	// store prefix holding them in the layout of strata plan --out.
	Head  string `json:"head,omitempty"`
	Base  string `json:"base,omitempty"`
	Plans string `json:"plans,omitempty"`
	// Locks are the lock keys this merge request holds.
	Locks []string `json:"locks,omitempty"`
	// PolicyApproval is a policy owner's acceptance of the failing
	// policies, valid for one commit only.
	PolicyApproval *policyApproval `json:"policy_approval,omitempty"`
	// AppliedAt is the commit the plans were applied at, once they were.
	AppliedAt string    `json:"applied_at,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

type policyApproval struct {
	Commit string    `json:"commit"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

func (r *Reviewer) loadState(ctx context.Context, ref forge.MRRef) (*state, error) {
	data, err := r.cfg.Store.Get(ctx, records.MRStateKey(ref))
	if errors.Is(err, store.ErrNotFound) {
		return &state{Ref: ref}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", ref, err)
	}
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", ref, err)
	}
	return st, nil
}

func (r *Reviewer) saveState(ctx context.Context, st *state) error {
	st.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if _, err := r.cfg.Store.Put(ctx, records.MRStateKey(st.Ref), data); err != nil {
		return fmt.Errorf("save the state of %s: %w", st.Ref, err)
	}
	return nil
}
