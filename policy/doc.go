// Package policy evaluates plans against Rego policies (conftest style) and
// decides whether the apply requirements of a merge request hold.
//
// It knows nothing of forges or of how a plan was made: it takes plan JSON
// and returns results.
package policy
