// Package policy evaluates plans against Rego policies (conftest style).
//
// It knows nothing of forges or of how a plan was made: it takes plan JSON
// and returns results. Whether a merge request may be applied (approvals,
// mergeability, freshness, locks, a policy owner's approval of failing
// policies) is decided by package runner/review, from these results.
//
// # Rego policies
//
// Load compiles the policies once (embedded OPA, no external binary) and
// Engine.Evaluate checks one plan JSON, the `terraform show -json PLANFILE`
// output exactly as conftest would see it; it is safe for concurrent use, so
// each plan worker evaluates its own stack. Decisions:
//
//   - conftest conventions: rules named deny, violation (block) or warn
//     (annotate), optionally suffixed (deny_public, warn_replace), in the
//     package "main" unless Options.Namespaces names others. A message is a
//     string or an object with a string "msg"; its other fields are kept as
//     Message.Metadata. A rule that is a single message, or true
//     (`deny if ...`), fires too; a value of any other shape is an error
//     rather than being ignored as conftest does. conftest's exception rules
//     are not supported.
//   - Rego syntax is read per file: Rego v1 (the OPA 1.x default) first, and
//     Rego v0 (`deny[msg] { ... }`, what most conftest policies use) when v1
//     does not parse. When neither parses, the error of the dialect that got
//     further into the file is reported. v0 and v1 files can be mixed.
//   - Every definition of a deny, violation or warn rule is evaluated on its
//     own (through a copy under a generated name, so rules that refer to
//     deny keep their meaning), which lets each message name the file and
//     line of the definition that produced it, and a timeout name the rule
//     that was running. A side effect: two complete definitions of one rule
//     that disagree give two messages instead of OPA's conflict error.
//   - Nothing unreadable passes. Syntax and compile errors fail Load, each
//     naming file:line. Paths without .rego files (*_test.rego and hidden
//     directories are skipped), and a namespace without any deny, violation
//     or warn rule (a misnamed package), fail Load with ErrNoPolicies. At
//     evaluation, a timeout (Options.Timeout, default 10s, for the whole
//     plan), a runtime error or a malformed message makes the Result fail
//     with Error set.
//   - Input that is not a plan (no format_version, or neither planned_values
//     nor resource_changes, as in state JSON) is refused with ErrNotPlan.
//   - http.send, net.lookup_ip_addr and opa.runtime are refused at compile
//     time: policies come from repositories and run inside the runner.
//   - Settings for policies are Rego documents (a file in package
//     strata.config, say); JSON or YAML data files are not loaded.
//   - Plan JSON is parsed with fastjson straight into OPA values, which
//     halves the cost of encoding/json and ast.InterfaceToValue.
//
// The policy test helpers that make real plans with terraform live in
// policytest.
package policy
