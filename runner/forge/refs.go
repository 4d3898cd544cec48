package forge

import (
	"fmt"
	"strconv"
	"strings"
)

// RepoRef names a repository across forges: its String form,
// "gitlab/acme/infra", is what --repo-allowlist globs match, what metrics
// and logs name, and what the store's keys are built from.
type RepoRef struct {
	Forge string `json:"forge"`
	// Path is the project path on the forge, e.g. "acme/infra".
	Path string `json:"repo"`
}

func (r RepoRef) String() string { return r.Forge + "/" + r.Path }

// MRRef names a merge request across forges and repositories. Its String
// form, "gitlab/acme/infra!12", owns the merge request's locks and groups
// its queued events, so they are handled one at a time, in order.
type MRRef struct {
	RepoRef
	Number int64 `json:"number"`
}

func (r MRRef) String() string { return fmt.Sprintf("%s!%d", r.RepoRef, r.Number) }

// ParseMRRef reads the String form back; ok is false for other strings (a
// lock taken with the CLI, a drift scan's lock).
func ParseMRRef(s string) (MRRef, bool) {
	i := strings.LastIndex(s, "!")
	slash := strings.Index(s, "/")
	if i < 0 || slash < 0 || slash > i {
		return MRRef{}, false
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return MRRef{}, false
	}
	return MRRef{RepoRef: RepoRef{Forge: s[:slash], Path: s[slash+1 : i]}, Number: n}, true
}

// Short is how a comment on r names another owner: "!12" for a merge
// request of the same repository on GitLab, "#12" for a pull request on
// GitHub (whose links are written so), the full reference otherwise.
func (r MRRef) Short(owner string) string {
	if o, ok := ParseMRRef(owner); ok && o.RepoRef == r.RepoRef {
		sign := "!"
		if o.Forge == "github" {
			sign = "#"
		}
		return fmt.Sprintf("%s%d", sign, o.Number)
	}
	return owner
}

// RepoRef is the repository the event is about.
func (e Event) RepoRef() RepoRef { return RepoRef{Forge: e.Forge, Path: e.Repo} }

// MRRef is the merge request the event is about.
func (e Event) MRRef() MRRef { return MRRef{RepoRef: e.RepoRef(), Number: e.Number} }
