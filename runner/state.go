package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/strata-iac/strata/runner/store"
)

// mrState is what strata remembers of a merge request between events. It
// lives in the store (mr/<forge>/<repo>/<n>/state.json), never only in
// memory, so any replica can pick up where another stopped.
type mrState struct {
	Ref mrRef `json:"ref"`
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

func (r mrRef) prefix() string {
	return path.Join("mr", r.Forge, r.Repo, fmt.Sprint(r.Number))
}

func (s *Server) loadState(ctx context.Context, ref mrRef) (*mrState, error) {
	data, err := s.cfg.Store.Get(ctx, ref.prefix()+"/state.json")
	if errors.Is(err, store.ErrNotFound) {
		return &mrState{Ref: ref}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", ref, err)
	}
	st := &mrState{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", ref, err)
	}
	return st, nil
}

func (s *Server) saveState(ctx context.Context, st *mrState) error {
	st.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.Put(ctx, st.Ref.prefix()+"/state.json", data); err != nil {
		return fmt.Errorf("save the state of %s: %w", st.Ref, err)
	}
	return nil
}

// prefixed is a view of a Store under a key prefix: the --out layout of
// one plan set, or one drift scan.
type prefixed struct {
	s      store.Store
	prefix string
}

func (p prefixed) Put(ctx context.Context, key string, data []byte) (string, error) {
	return p.s.Put(ctx, p.prefix+"/"+key, data)
}

func (p prefixed) Get(ctx context.Context, key string) ([]byte, error) {
	return p.s.Get(ctx, p.prefix+"/"+key)
}
