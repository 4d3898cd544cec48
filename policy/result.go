package policy

import (
	"fmt"
	"strconv"
)

// Outcome is the verdict of the policies on one plan.
type Outcome string

const (
	// Pass: no deny, violation or warn rule fired.
	Pass Outcome = "pass"
	// Warn: only warn rules fired; the plan may be applied.
	Warn Outcome = "warn"
	// Fail: a deny or violation rule fired, or evaluation did not complete
	// (timeout, runtime error). The plan must not be applied.
	Fail Outcome = "fail"
)

// Message is one message a rule produced.
type Message struct {
	// Namespace is the Rego package of the rule, without "data.", e.g. "main".
	Namespace string `json:"namespace"`
	// Rule is the rule name as written, e.g. "deny" or "warn_replace".
	Rule string `json:"rule"`
	// File and Line locate the rule definition that produced the message.
	// File is relative to Options.BaseDir when that is set.
	File string `json:"file"`
	Line int    `json:"line"`
	// Msg is the message: the string itself, or the "msg" field of an object
	// message.
	Msg string `json:"msg"`
	// Metadata holds the other fields of an object message, e.g. the
	// "details" of a conftest violation.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Location is "file:line" of the rule definition.
func (m Message) Location() string { return m.File + ":" + strconv.Itoa(m.Line) }

// String is "namespace.rule (file:line): msg", one line for people.
func (m Message) String() string {
	return fmt.Sprintf("%s.%s (%s): %s", m.Namespace, m.Rule, m.Location(), m.Msg)
}

// Result is the verdict of the policies on one plan (one stack). It marshals
// to a stable JSON object: failures and warnings are always arrays.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// Failures come from deny and violation rules, Warnings from warn rules,
	// in the order of the rule definitions (files sorted by name, rules in
	// file order), each rule's messages sorted.
	Failures []Message `json:"failures"`
	Warnings []Message `json:"warnings"`
	// Rules is the number of rule definitions evaluated.
	Rules int `json:"rules"`
	// Error says why evaluation did not complete (a timeout, a runtime error
	// in a rule, a message of the wrong shape). Outcome is then Fail, and
	// Failures and Warnings hold what the rules evaluated before it found.
	Error string `json:"error,omitempty"`
}

// outcome derives the outcome from the messages and the error.
func (r *Result) outcome() Outcome {
	switch {
	case len(r.Failures) > 0 || r.Error != "":
		return Fail
	case len(r.Warnings) > 0:
		return Warn
	default:
		return Pass
	}
}
