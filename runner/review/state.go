package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// Applied holds, by stack directory, the applies of the current plans
	// that completed. Each is saved as soon as terraform reports it, before
	// any commit status, note or queue acknowledgement, so a redelivered
	// event finds it and never applies (nor reports failed) again.
	Applied map[string]appliedStack `json:"applied,omitempty"`
	// Applying is the apply in progress, saved before terraform starts and
	// cleared when it ends: found by a later event, it is an apply a crash
	// of strata cut short.
	Applying *applying `json:"applying,omitempty"`
	// Interrupted lists the stacks whose apply was cut short: their plans
	// no longer match the state, and are not applied until planned again.
	Interrupted []string  `json:"interrupted,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// appliedStack is one completed apply of a stack's current plan.
type appliedStack struct {
	Run    string    `json:"run"`    // the run record's ID
	Commit string    `json:"commit"` // the commit it was applied at
	At     time.Time `json:"at"`
}

// applying is an apply in progress.
type applying struct {
	Run     string          `json:"run"`
	Commit  string          `json:"commit"`
	Stacks  []string        `json:"stacks"`
	Started time.Time       `json:"started"`
	Trigger records.Trigger `json:"trigger"`
}

// resetApplies forgets the applies of stacks whose plans are replaced
// (every stack when dirs is nil).
func (st *state) resetApplies(dirs []string) {
	if dirs == nil {
		st.Applied, st.Interrupted = nil, nil
		return
	}
	for _, d := range dirs {
		delete(st.Applied, d)
	}
	st.Interrupted = slices.DeleteFunc(st.Interrupted, func(d string) bool { return slices.Contains(dirs, d) })
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
