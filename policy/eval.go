package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/valyala/fastjson"
)

// ErrNotPlan is wrapped by Evaluate's error when the input is not the JSON
// of a Terraform plan (`terraform show -json PLANFILE`).
var ErrNotPlan = errors.New("not a Terraform plan JSON")

// Evaluate runs every rule against one plan JSON, the input conftest would
// see for it. It is safe to call concurrently.
//
// The error is non-nil when the input is not a plan (it wraps ErrNotPlan),
// when evaluation ran past the engine's timeout, when a rule failed at run
// time or produced a message of the wrong shape, or when ctx was cancelled.
// The Result is usable in every case: on error its Outcome is Fail and its
// Error field says why, so a caller that only records the Result never
// records a pass for a plan that was not fully checked.
func (e *Engine) Evaluate(ctx context.Context, planJSON []byte) (Result, error) {
	res := Result{Failures: []Message{}, Warnings: []Message{}, Rules: len(e.rules)}
	input, err := parsePlan(planJSON)
	if err == nil {
		err = e.eval(ctx, input, &res)
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.Outcome = res.outcome()
	return res, err
}

func (e *Engine) eval(ctx context.Context, input ast.Value, res *Result) error {
	ctx, cancel := context.WithTimeoutCause(ctx, e.timeout, errTimeout)
	defer cancel()
	for _, r := range e.rules {
		rs, err := r.query.Eval(ctx, rego.EvalParsedInput(input))
		if ctx.Err() != nil {
			if context.Cause(ctx) == errTimeout {
				return fmt.Errorf("policy evaluation timed out after %s in %s", e.timeout, r)
			}
			return fmt.Errorf("policy evaluation stopped in %s: %w", r, context.Cause(ctx))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		msgs, err := messages(r, rs)
		if err != nil {
			return err
		}
		if r.failure {
			res.Failures = append(res.Failures, msgs...)
		} else {
			res.Warnings = append(res.Warnings, msgs...)
		}
	}
	return nil
}

var errTimeout = errors.New("policy timeout")

// parsers parse plan JSON. fastjson and a direct conversion to ast.Value
// take half the time of encoding/json and ast.InterfaceToValue, which
// matters when one run checks hundreds of stacks.
var parsers fastjson.ParserPool

// parsePlan decodes planJSON and checks it looks like a plan: a JSON object
// with format_version and planned_values or resource_changes (state JSON has
// "values" instead).
func parsePlan(planJSON []byte) (ast.Value, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	doc, err := p.ParseBytes(planJSON)
	switch {
	case len(bytes.TrimSpace(planJSON)) == 0:
		return nil, fmt.Errorf("%w: empty input", ErrNotPlan)
	case err != nil:
		return nil, fmt.Errorf("%w: invalid JSON: %v", ErrNotPlan, err)
	case doc.Type() != fastjson.TypeObject:
		return nil, fmt.Errorf("%w: the top-level value is %s, not an object", ErrNotPlan, doc.Type())
	case !isString(doc.Get("format_version")):
		return nil, fmt.Errorf("%w: no \"format_version\" string", ErrNotPlan)
	case !doc.Exists("planned_values") && !doc.Exists("resource_changes"):
		return nil, fmt.Errorf("%w: no \"planned_values\" or \"resource_changes\" (state JSON or `terraform show -json` without a plan file?)", ErrNotPlan)
	}
	return converter{}.value(doc), nil
}

func isString(v *fastjson.Value) bool { return v != nil && v.Type() == fastjson.TypeString }

// converter turns a parsed JSON value into an ast.Value. Strings are
// copied, as the parser reuses its buffer, and interned within one plan:
// keys and values such as "address" or "create" repeat for every resource.
// Of duplicate keys the last wins, as with encoding/json.
type converter map[string]*ast.Term

func (c converter) value(v *fastjson.Value) ast.Value {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		obj := ast.NewObjectWithCapacity(o.Len())
		o.Visit(func(k []byte, v *fastjson.Value) {
			obj.Insert(c.str(k), c.term(v))
		})
		return obj
	case fastjson.TypeArray:
		a, _ := v.Array()
		terms := make([]*ast.Term, len(a))
		for i, e := range a {
			terms[i] = c.term(e)
		}
		return ast.NewArray(terms...)
	case fastjson.TypeNumber:
		return ast.Number(v.MarshalTo(nil))
	case fastjson.TypeTrue:
		return ast.Boolean(true)
	case fastjson.TypeFalse:
		return ast.Boolean(false)
	default:
		return ast.Null{}
	}
}

func (c converter) term(v *fastjson.Value) *ast.Term {
	if v.Type() == fastjson.TypeString {
		return c.str(v.GetStringBytes())
	}
	return ast.NewTerm(c.value(v))
}

func (c converter) str(b []byte) *ast.Term {
	if t, ok := c[string(b)]; ok {
		return t
	}
	t := ast.StringTerm(string(b))
	c[string(t.Value.(ast.String))] = t
	return t
}

// messages turns what a rule evaluated to into messages. conftest rules are
// sets of messages; a message is a string or an object with a string "msg"
// field. A rule that is a single message or `true` (`deny if { ... }`) fires
// too. Anything else is an error rather than being ignored, as a policy that
// cannot be read must not pass.
func messages(r *rule, rs rego.ResultSet) ([]Message, error) {
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	var values []any
	switch v := rs[0].Expressions[0].Value.(type) {
	case []any:
		values = v
	case string, map[string]any:
		values = []any{v}
	case bool:
		if v {
			values = []any{r.name + " is true"}
		}
	default:
		return nil, fmt.Errorf("%s: evaluated to %s; want a set of messages", r, compact(v))
	}
	out := make([]Message, 0, len(values))
	for _, v := range values {
		m := Message{Namespace: r.namespace, Rule: r.name, File: r.file, Line: r.line}
		switch v := v.(type) {
		case string:
			m.Msg = v
		case map[string]any:
			msg, ok := v["msg"].(string)
			if !ok {
				return nil, fmt.Errorf("%s: message %s has no string \"msg\" field", r, compact(v))
			}
			m.Msg = msg
			for k, f := range v {
				if k == "msg" {
					continue
				}
				if m.Metadata == nil {
					m.Metadata = map[string]any{}
				}
				m.Metadata[k] = f
			}
		default:
			return nil, fmt.Errorf("%s: message %s is neither a string nor an object with \"msg\"", r, compact(v))
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Message) int { return strings.Compare(a.Msg, b.Msg) })
	return out, nil
}

// compact renders a value for an error message, shortened.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
