package planner

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/strata-iac/strata/planner/tf"
)

// StackConstraints returns the required_version constraints of the stacks
// in dirs (repo-relative, "/"-separated, under root) and of the local
// modules they call, each named by file:line relative to root.
func StackConstraints(root string, dirs []string) ([]tf.Constraint, error) {
	var out []tf.Constraint
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, mod := range localModules(filepath.Join(root, filepath.FromSlash(d))) {
			if seen[mod] {
				continue
			}
			seen[mod] = true
			rel, err := filepath.Rel(root, mod)
			if err != nil {
				return nil, err
			}
			if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				// A module outside the tree: strata reads nothing of
				// what lies there (it may be another run's workspace),
				// and terraform, which sees only the tree, refuses it.
				continue
			}
			sf, err := readStackFiles(mod)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", filepath.ToSlash(rel), err)
			}
			out = append(out, sf.requiredVersions(rel)...)
		}
	}
	return out, nil
}

// requiredVersions returns the stack's required_version constraints, each
// with the file:line it comes from, relative to root.
func (sf stackFiles) requiredVersions(rel string) []tf.Constraint {
	var out []tf.Constraint
	sf.terraformBlocks(func(name string, c *hcl.BodyContent) {
		a, ok := c.Attributes["required_version"]
		if !ok {
			return
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
			return
		}
		out = append(out, tf.Constraint{
			Expr:   v.AsString(),
			Source: filepath.ToSlash(filepath.Join(rel, name)) + ":" + strconv.Itoa(a.Range.Start.Line),
		})
	})
	return out
}
