package planner

import (
	"context"
	"encoding/json"
	"fmt"
)

// Names of the files of the --out layout (README.md, strata plan):
// summary.json and comment.md at the top, and per stack instance
// <dir>/plan.tfplan, plan.json and plan.txt (<dir>@<workspace>/ for an
// instance of another workspace than the default).
const (
	SummaryFile  = "summary.json"
	CommentFile  = "comment.md"
	PlanFile     = "plan.tfplan"
	PlanJSONFile = "plan.json"
	PlanTextFile = "plan.txt"
)

// Artifacts is where a run's files go: a local directory or an S3 prefix
// (package runner/store implements it). Put must be atomic and Get must
// verify what Put recorded.
type Artifacts interface {
	Put(ctx context.Context, key string, data []byte) (sha256 string, err error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// StackFile is the key of a file of the stack instance stack (DIR or
// DIR@WORKSPACE, as Result.Name gives it) in the --out layout.
func StackFile(stack, name string) string {
	if stack == "." || stack == "" {
		return name
	}
	return stack + "/" + name
}

// WriteOut stores a run: every stack's plan files, then comment.md, then
// summary.json. summary.json is written last, so its presence means the
// whole set is there; a run cut short leaves no summary.json and apply
// refuses it.
func WriteOut(ctx context.Context, a Artifacts, s Summary, comment string) error {
	for _, r := range s.Stacks {
		files := []struct {
			name string
			data []byte
		}{{PlanFile, r.PlanFile}, {PlanJSONFile, r.PlanJSON}, {PlanTextFile, []byte(r.PlanText)}}
		for _, f := range files {
			if len(f.data) == 0 {
				continue
			}
			if _, err := a.Put(ctx, StackFile(r.Name(), f.name), f.data); err != nil {
				return fmt.Errorf("store %s of %s: %w", f.name, r.Name(), err)
			}
		}
	}
	if _, err := a.Put(ctx, CommentFile, []byte(comment)); err != nil {
		return fmt.Errorf("store %s: %w", CommentFile, err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if _, err := a.Put(ctx, SummaryFile, append(data, '\n')); err != nil {
		return fmt.Errorf("store %s: %w", SummaryFile, err)
	}
	return nil
}

// ReadSummary reads summary.json back.
func ReadSummary(ctx context.Context, a Artifacts) (Summary, error) {
	var s Summary
	data, err := a.Get(ctx, SummaryFile)
	if err != nil {
		return s, fmt.Errorf("read %s: %w (was the plan run to completion with --out?)", SummaryFile, err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("read %s: %w", SummaryFile, err)
	}
	return s, nil
}
