package planner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	tfjson "github.com/hashicorp/terraform-json"
)

// parsePlanJSON decodes `terraform show -json` output, keeping numbers as
// json.Number as terraform-json recommends.
func parsePlanJSON(data []byte) (*tfjson.Plan, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p tfjson.Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan JSON: %w", err)
	}
	return &p, nil
}

// summarize counts a plan's changes and lists the addresses behind them.
//
// Counting follows what Terraform reports: a replace (delete-then-create or
// create-then-delete) counts once, as Replace; an import or a move counts
// as such on top of the action that goes with it (an imported resource may
// also be updated, a moved one is often a no-op). Data sources being read
// are neither counted nor listed. Changes holds every resource with an
// action other than no-op, and the no-op ones that are imported or moved,
// since those change the state too.
func summarize(p *tfjson.Plan) (Counts, []ResourceChange, []ResourceChange) {
	var c Counts
	var changes []ResourceChange
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil {
			continue
		}
		action := countAction(&c, rc.Change.Actions)
		rchange := ResourceChange{
			Address:   address(rc),
			Action:    action,
			Imported:  rc.Change.Importing != nil,
			MovedFrom: rc.PreviousAddress,
			Reason:    string(rc.ActionReason),
		}
		if rchange.Imported {
			c.Import++
		}
		if rchange.MovedFrom != "" {
			c.Move++
		}
		switch {
		case action == ActionRead:
		case action != ActionNoOp, rchange.Imported, rchange.MovedFrom != "":
			changes = append(changes, rchange)
		}
	}
	var drift []ResourceChange
	for _, rc := range p.ResourceDrift {
		if rc == nil || rc.Change == nil {
			continue
		}
		drift = append(drift, ResourceChange{
			Address: address(rc),
			Action:  actionName(rc.Change.Actions),
			Reason:  string(rc.ActionReason),
		})
	}
	c.Drift = len(drift)
	for _, oc := range p.OutputChanges {
		if oc != nil && !oc.Actions.NoOp() {
			c.OutputChanges++
		}
	}
	return c, changes, drift
}

// countAction adds one resource's actions to c and returns their name.
func countAction(c *Counts, a tfjson.Actions) string {
	name := actionName(a)
	switch name {
	case ActionNoOp:
		c.NoOp++
	case ActionReplace:
		c.Replace++
	case ActionCreate:
		c.Create++
	case ActionUpdate:
		c.Update++
	case ActionDelete:
		c.Delete++
	case ActionForget:
		c.Forget++
		if slices.Contains(a, tfjson.ActionCreate) {
			c.Create++
		}
	}
	return name
}

// actionName names a resource's list of actions with one of the Action*
// constants.
func actionName(a tfjson.Actions) string {
	switch {
	case a.Replace():
		return ActionReplace
	case a.Create():
		return ActionCreate
	case a.Update():
		return ActionUpdate
	case a.Delete():
		return ActionDelete
	case a.Read():
		return ActionRead
	case slices.Contains(a, tfjson.ActionForget):
		// "forget", or "create" then "forget" (a replace whose old
		// object leaves the state without being destroyed).
		return ActionForget
	default:
		return ActionNoOp
	}
}

// address names a resource instance, marking deposed objects, which share
// their address with the current object.
func address(rc *tfjson.ResourceChange) string {
	if rc.DeposedKey != "" {
		return rc.Address + " (deposed object " + rc.DeposedKey + ")"
	}
	return rc.Address
}
