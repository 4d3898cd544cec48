package policy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/policy"
)

func TestTimeout(t *testing.T) {
	e := load(t, map[string]string{
		"a.rego": deleteRule,
		"loop.rego": `package main

warn contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i == -j
}
`,
	}, policy.Options{Timeout: 300 * time.Millisecond})
	start := time.Now()
	res, err := e.Evaluate(context.Background(), plan(t))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Evaluate took %s past a 300ms timeout", took)
	}
	if err == nil {
		t.Fatal("a looping policy passed")
	}
	for _, w := range []string{"timed out after 300ms", "main.warn (loop.rego:3)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if res.Outcome != policy.Fail || res.Error != err.Error() {
		t.Errorf("result = %+v, want outcome fail with the error", res)
	}
	if len(res.Failures) != 1 {
		t.Errorf("failures = %+v, want the one found before the timeout", res.Failures)
	}
}

func TestCancelled(t *testing.T) {
	e := load(t, map[string]string{"a.rego": deleteRule}, policy.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := e.Evaluate(ctx, plan(t))
	if err == nil || res.Outcome != policy.Fail {
		t.Fatalf("Evaluate with a cancelled context = %+v, %v; want a failure", res, err)
	}
}

func TestBadMessages(t *testing.T) {
	for name, rule := range map[string]string{
		"object without msg": `deny contains {"message": "x"} if true`,
		"number":             `deny contains 1 if true`,
		"number rule":        `deny := 7`,
	} {
		t.Run(name, func(t *testing.T) {
			e := load(t, map[string]string{"m.rego": "package main\n\n" + rule + "\n"}, policy.Options{})
			res, err := e.Evaluate(context.Background(), plan(t))
			if err == nil {
				t.Fatalf("Evaluate = %+v, want an error", res)
			}
			if !strings.Contains(err.Error(), "main.deny (m.rego:3)") {
				t.Errorf("error %q does not name the rule", err)
			}
			if res.Outcome != policy.Fail {
				t.Errorf("outcome = %s, want fail", res.Outcome)
			}
		})
	}
}

func TestNotAPlan(t *testing.T) {
	e := load(t, map[string]string{"a.rego": deleteRule}, policy.Options{})
	for name, input := range map[string]string{
		"empty":        "",
		"invalid":      `{"format_version": `,
		"trailing":     `{"format_version": "1.2", "planned_values": {}} {}`,
		"array":        `[]`,
		"no version":   `{"planned_values": {}}`,
		"state JSON":   `{"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {}}}`,
		"other object": `{"kind": "Deployment"}`,
	} {
		t.Run(name, func(t *testing.T) {
			res, err := e.Evaluate(context.Background(), []byte(input))
			if !errors.Is(err, policy.ErrNotPlan) {
				t.Fatalf("error = %v, want ErrNotPlan", err)
			}
			if res.Outcome != policy.Fail || !strings.HasPrefix(res.Error, "not a Terraform plan JSON: ") {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestEvaluateConcurrently(t *testing.T) {
	e := load(t, map[string]string{"a.rego": deleteRule}, policy.Options{})
	planJSON := plan(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				res, err := e.Evaluate(context.Background(), planJSON)
				if err != nil || len(res.Failures) != 1 {
					t.Errorf("Evaluate = %+v, %v", res, err)
				}
			}
		})
	}
	wg.Wait()
}
