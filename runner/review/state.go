package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// Applied holds, by stack name, the applies of the current plans
	// that completed. Each is saved as soon as terraform reports it, before
	// any commit status, note or queue acknowledgement, so a redelivered
	// event finds it and never applies (nor reports failed) again.
	Applied map[string]appliedStack `json:"applied,omitempty"`
	// Applying is the apply in progress, claimed with a conditional write
	// before terraform starts and cleared when it ends (once.go): found by
	// a later event, it is an apply running on another replica, or one a
	// crash of strata cut short.
	Applying *applying `json:"applying,omitempty"`
	// Interrupted lists the stacks whose apply was cut short: their plans
	// no longer match the state, and are not applied until planned again.
	Interrupted []string  `json:"interrupted,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`

	// etag is the version this state was read at (or "" for a state not
	// yet in the store): saveState writes only over that version. loaded
	// is the state as read, what this replica's changes are changes to.
	etag   string
	loaded []byte
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
	// Replica is the strata replica running it.
	Replica string `json:"replica,omitempty"`
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

// saveTries bounds how often saveState writes again over a newer state.
const saveTries = 6

func (r *Reviewer) loadState(ctx context.Context, ref forge.MRRef) (*state, error) {
	data, etag, err := r.cfg.Store.GetTagged(ctx, records.MRStateKey(ref))
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
	st.etag, st.loaded = etag, data
	return st, nil
}

// saveState writes st over the version it was read at. When another
// replica wrote the state since (this one's view was stale: it lost its
// queue lease, or took an event again), the write is refused, and st's
// changes are made again to the state as it now stands (rebase) and
// written over that, until a write lands. On return st is what was
// written.
func (r *Reviewer) saveState(ctx context.Context, st *state) error {
	for try := 1; ; try++ {
		err := r.saveStrict(ctx, st)
		if !errors.Is(err, store.ErrPreconditionFailed) || try == saveTries {
			return err
		}
		fresh, err := r.loadState(ctx, st.Ref)
		if err != nil {
			return err
		}
		next, err := rebase(st, fresh)
		if err != nil {
			return fmt.Errorf("save the state of %s: %w", st.Ref, err)
		}
		r.log.Warn("the state of the merge request changed since this replica read it: writing its change over the newer state",
			"mr", st.Ref.String(), "try", try)
		*st = *next
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(50*time.Millisecond))) * time.Duration(try)):
		}
	}
}

// saveStrict writes st over the version it was read at, or fails with an
// error matching store.ErrPreconditionFailed.
func (r *Reviewer) saveStrict(ctx context.Context, st *state) error {
	st.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	etag, err := r.cfg.Store.PutIf(ctx, records.MRStateKey(st.Ref), data, st.etag)
	if err != nil {
		return fmt.Errorf("save the state of %s: %w", st.Ref, err)
	}
	st.etag, st.loaded = etag, data
	return nil
}

// The fields of the plan set: the plans, the commit they were made at and
// their merge base, which hold only together.
var planSet = []string{"head", "base", "plans"}

// rebase makes mine's changes (to the state mine was read as) to fresh,
// the state as another replica left it, field by field:
//
//   - locks are a set: what mine took is added, what it released removed;
//   - when fresh holds another plan set than mine was read with, a newer
//     plan landed first: fresh's plan set and everything about it (the
//     applies, the apply in progress, the interrupted stacks, the policy
//     approval) stay, and mine's changes to them, made for plans no longer
//     current, are dropped;
//   - otherwise a field mine changed takes mine's value, and the applied
//     stacks merge by stack.
//
// The result carries fresh's version, so it is written over fresh only.
func rebase(mine, fresh *state) (*state, error) {
	base, err := fields(mine.loaded)
	if err != nil {
		return nil, err
	}
	m, err := toFields(mine)
	if err != nil {
		return nil, err
	}
	out, err := fields(fresh.loaded)
	if err != nil {
		return nil, err
	}
	newPlans := slices.ContainsFunc(planSet, func(k string) bool { return !same(base[k], out[k]) })
	for k := range keysOf(m, base) {
		switch {
		case k == "locks" || k == "updated_at" || k == "ref":
		case newPlans || same(m[k], base[k]):
		case k == "applied":
			if out[k], err = mergeByKey(base[k], m[k], out[k]); err != nil {
				return nil, err
			}
		case m[k] == nil:
			delete(out, k)
		default:
			out[k] = m[k]
		}
	}
	var locks struct{ Base, Mine, Fresh []string }
	for _, p := range []struct {
		raw json.RawMessage
		dst *[]string
	}{{base["locks"], &locks.Base}, {m["locks"], &locks.Mine}, {out["locks"], &locks.Fresh}} {
		if p.raw != nil {
			if err := json.Unmarshal(p.raw, p.dst); err != nil {
				return nil, err
			}
		}
	}
	merged := setMerge(locks.Base, locks.Mine, locks.Fresh)
	delete(out, "locks")
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	next := &state{}
	if err := json.Unmarshal(data, next); err != nil {
		return nil, err
	}
	next.Locks = merged
	next.Ref, next.etag, next.loaded = fresh.Ref, fresh.etag, fresh.loaded
	return next, nil
}

// mergeByKey merges two changes to a JSON object: an entry mine changed
// takes mine's value.
func mergeByKey(baseRaw, mineRaw, freshRaw json.RawMessage) (json.RawMessage, error) {
	var base, mine, out map[string]json.RawMessage
	for _, p := range []struct {
		raw json.RawMessage
		dst *map[string]json.RawMessage
	}{{baseRaw, &base}, {mineRaw, &mine}, {freshRaw, &out}} {
		if p.raw != nil {
			if err := json.Unmarshal(p.raw, p.dst); err != nil {
				return nil, err
			}
		}
	}
	if out == nil {
		out = map[string]json.RawMessage{}
	}
	for k := range keysOf(mine, base) {
		switch {
		case same(mine[k], base[k]):
		case mine[k] == nil:
			delete(out, k)
		default:
			out[k] = mine[k]
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return json.Marshal(out)
}

// setMerge adds to fresh what mine added to base and removes what mine
// removed.
func setMerge(base, mine, fresh []string) []string {
	var out []string
	for _, k := range fresh {
		if !slices.Contains(base, k) || slices.Contains(mine, k) {
			out = append(out, k)
		}
	}
	for _, k := range mine {
		if !slices.Contains(base, k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// fields splits a saved state into its top-level fields; nil (a state
// not yet saved) has none.
func fields(data []byte) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if data == nil {
		return out, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func toFields(st *state) (map[string]json.RawMessage, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return fields(data)
}

// same compares two JSON values, whatever their layout; absent equals
// absent only.
func same(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func keysOf[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
