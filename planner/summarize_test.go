package planner

import (
	"reflect"
	"testing"
)

// A plan JSON with every kind of change, including those the built-in
// provider cannot produce (deposed objects, drift, data source reads).
const planJSONAllKinds = `{
  "format_version": "1.2",
  "terraform_version": "1.11.4",
  "resource_changes": [
    {"address": "aws_vpc.new", "mode": "managed", "change": {"actions": ["create"]}},
    {"address": "aws_vpc.tags", "mode": "managed", "change": {"actions": ["update"]}},
    {"address": "aws_vpc.old", "mode": "managed", "action_reason": "delete_because_no_resource_config", "change": {"actions": ["delete"]}},
    {"address": "aws_instance.a", "mode": "managed", "action_reason": "replace_because_cannot_update", "change": {"actions": ["delete", "create"]}},
    {"address": "aws_instance.b", "mode": "managed", "action_reason": "replace_by_triggers", "change": {"actions": ["create", "delete"]}},
    {"address": "aws_instance.c", "mode": "managed", "deposed": "00000001", "change": {"actions": ["delete"]}},
    {"address": "aws_s3_bucket.imported", "mode": "managed", "change": {"actions": ["no-op"], "importing": {"id": "b"}}},
    {"address": "aws_s3_bucket.imported_and_tagged", "mode": "managed", "change": {"actions": ["update"], "importing": {"id": "c"}}},
    {"address": "aws_s3_bucket.renamed", "previous_address": "aws_s3_bucket.old_name", "mode": "managed", "change": {"actions": ["no-op"]}},
    {"address": "aws_s3_bucket.kept", "mode": "managed", "change": {"actions": ["no-op"]}},
    {"address": "aws_s3_bucket.forgotten", "mode": "managed", "change": {"actions": ["forget"]}},
    {"address": "data.aws_caller_identity.me", "mode": "data", "change": {"actions": ["read"]}}
  ],
  "resource_drift": [
    {"address": "aws_vpc.tags", "mode": "managed", "change": {"actions": ["update"]}},
    {"address": "aws_vpc.gone", "mode": "managed", "change": {"actions": ["delete"]}}
  ],
  "output_changes": {
    "id": {"actions": ["create"]},
    "same": {"actions": ["no-op"]},
    "arn": {"actions": ["update"]}
  }
}`

func TestSummarize(t *testing.T) {
	p, err := parsePlanJSON([]byte(planJSONAllKinds))
	if err != nil {
		t.Fatal(err)
	}
	counts, changes, drift := summarize(p)
	wantCounts := Counts{Create: 1, Update: 2, Delete: 2, Replace: 2, Import: 2, Move: 1, NoOp: 3, Forget: 1, OutputChanges: 2, Drift: 2}
	if counts != wantCounts {
		t.Errorf("counts %+v\nwant   %+v", counts, wantCounts)
	}
	wantChanges := []ResourceChange{
		{Address: "aws_vpc.new", Action: ActionCreate},
		{Address: "aws_vpc.tags", Action: ActionUpdate},
		{Address: "aws_vpc.old", Action: ActionDelete, Reason: "delete_because_no_resource_config"},
		{Address: "aws_instance.a", Action: ActionReplace, Reason: "replace_because_cannot_update"},
		{Address: "aws_instance.b", Action: ActionReplace, Reason: "replace_by_triggers"},
		{Address: "aws_instance.c (deposed object 00000001)", Action: ActionDelete},
		{Address: "aws_s3_bucket.imported", Action: ActionNoOp, Imported: true},
		{Address: "aws_s3_bucket.imported_and_tagged", Action: ActionUpdate, Imported: true},
		{Address: "aws_s3_bucket.renamed", Action: ActionNoOp, MovedFrom: "aws_s3_bucket.old_name"},
		{Address: "aws_s3_bucket.forgotten", Action: ActionForget},
	}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("changes\n%+v\nwant\n%+v", changes, wantChanges)
	}
	wantDrift := []ResourceChange{
		{Address: "aws_vpc.tags", Action: ActionUpdate},
		{Address: "aws_vpc.gone", Action: ActionDelete},
	}
	if !reflect.DeepEqual(drift, wantDrift) {
		t.Errorf("drift %+v, want %+v", drift, wantDrift)
	}
	if !counts.Changed() || (Counts{NoOp: 3, Drift: 1}).Changed() || !(Counts{Forget: 1}).Changed() {
		t.Error("Changed() disagrees")
	}
}

func TestParsePlanJSONRejectsGarbage(t *testing.T) {
	if _, err := parsePlanJSON([]byte("{not json")); err == nil {
		t.Error("no error for broken JSON")
	}
}

// FuzzSummarize: no `terraform show -json` output, however garbled, makes
// the reader panic, and what it reads adds up: counts are never negative
// and every listed change has an address and an action.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte(planJSONAllKinds))
	f.Add([]byte(`{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["delete","create"]}}]}`))
	f.Add([]byte(`{"resource_changes":[null,{"change":null},{"address":"x.y","change":{"actions":[]}}],"output_changes":{"o":null}}`))
	f.Add([]byte(`{"resource_drift":[{"address":"a.b","change":{"actions":["update"]}}],"planned_values":{"outputs":{}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parsePlanJSON(data)
		if err != nil {
			return
		}
		c, changes, drift := summarize(p)
		for _, n := range []int{c.Create, c.Update, c.Delete, c.Replace, c.Import, c.Move, c.NoOp, c.Forget, c.OutputChanges, c.Drift} {
			if n < 0 {
				t.Fatalf("negative count in %+v", c)
			}
		}
		if c.Drift != len(drift) {
			t.Fatalf("drift counted %d, listed %d", c.Drift, len(drift))
		}
		for _, rc := range append(changes, drift...) {
			if rc.Action == "" {
				t.Fatalf("a change without an action: %+v", rc)
			}
		}
	})
}
