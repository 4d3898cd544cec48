package policy

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestParsePlanMatchesEncodingJSON checks the fastjson conversion against
// the reference path (encoding/json with UseNumber, ast.InterfaceToValue).
func TestParsePlanMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"format_version": "1.2", "planned_values": {}}`,
		`{"format_version": "1.2", "resource_changes": [
			{"address": "a.b[\"k\"]", "change": {"actions": ["create"], "before": null,
			 "after": {"n": 1, "f": -0.5, "e": 1e3, "big": 123456789012345678901234567890, "t": true, "f2": false,
			           "s": "caf\u00e9 \"quoted\" \\ \n tab\t ☃", "empty": {}, "list": [[], [1, "2", null]]}}}
		], "planned_values": {"root_module": {}}, "dup": 1, "dup": 2}`,
	}
	for _, in := range inputs {
		got, err := parsePlan([]byte(in))
		if err != nil {
			t.Fatalf("parsePlan(%s): %v", in, err)
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(in)))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			t.Fatal(err)
		}
		want, err := ast.InterfaceToValue(x)
		if err != nil {
			t.Fatal(err)
		}
		if got.Compare(want) != 0 {
			t.Errorf("parsePlan(%s)\n got %v\nwant %v", in, got, want)
		}
	}
}
