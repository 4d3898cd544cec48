// Package forge defines what strata needs from a code forge (GitLab,
// GitHub): merge requests, notes, commit statuses, approvals and issues.
// Implementations live in sub-packages; this package holds the interface
// and the types shared by them.
package forge
