package forge

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on an event's fields.
const (
	// MaxDeliveryIDLen bounds Event.DeliveryID, which becomes part of a
	// queue key.
	MaxDeliveryIDLen = 512
	// MaxTitleLen bounds Event.Title (GitLab's own limit is 255
	// characters) and MaxBodyLen Event.Body, a comment's first line.
	MaxTitleLen = 1024
	MaxBodyLen  = 4096
	maxPathLen  = 1024
	maxNameLen  = 255
)

// Validate checks everything about an event that can be checked without
// the forge, so that a value which could never be handled is refused
// before the event is queued (a 4xx, shown on the forge's webhook page)
// rather than accepted, retried and given up. It checks the repository
// path (the store's keys and the allowlist are built from it), the
// commit SHAs, the numbers, the branch names, the user name and the
// delivery ID. A push (ActionPushed) names no merge request, so it has no
// number and no target branch; a comment may not name the head commit nor
// the target branch (GitHub's do not: the reviewer asks the forge). Errors are *WebhookError of kind ErrBadPayload naming the
// field.
func (e Event) Validate() error {
	bad := func(format string, args ...any) error {
		return &WebhookError{Kind: ErrBadPayload, Forge: e.Forge, Reason: fmt.Sprintf(format, args...)}
	}
	if err := CheckRepoPath(e.Repo); err != nil {
		return bad("project path: %v", err)
	}
	switch {
	case e.Number <= 0 && e.Action != ActionPushed:
		return bad("merge request number (iid) %d: want a positive number", e.Number)
	case e.ProjectID < 0:
		return bad("project id %d: want a positive number", e.ProjectID)
	case e.NoteID < 0:
		return bad("note id %d: want a positive number", e.NoteID)
	case e.DeliveryID == "":
		return bad("no delivery ID")
	case len(e.DeliveryID) > MaxDeliveryIDLen:
		return bad("the delivery ID is %d bytes long; at most %d are accepted", len(e.DeliveryID), MaxDeliveryIDLen)
	case !IsSHA(e.HeadSHA) && (e.HeadSHA != "" || e.Action != ActionCommented):
		return bad("head commit %q: want a commit SHA (40 or 64 hex digits)", clip(e.HeadSHA))
	case e.OldHeadSHA != "" && !IsSHA(e.OldHeadSHA):
		return bad("previous head commit (oldrev) %q: want a commit SHA (40 or 64 hex digits)", clip(e.OldHeadSHA))
	case e.MergeCommitSHA != "" && !IsSHA(e.MergeCommitSHA):
		return bad("merge commit %q: want a commit SHA (40 or 64 hex digits)", clip(e.MergeCommitSHA))
	case e.User != "" && !isUserName(e.User):
		return bad("user name %q: want letters, digits, '_', '-' and '.'", clip(e.User))
	}
	if e.TargetBranch == "" && e.Action != ActionPushed && e.Action != ActionCommented {
		return bad("no target branch")
	}
	for _, b := range []struct{ field, name string }{{"target branch", e.TargetBranch}, {"source branch", e.SourceBranch}, {"default branch", e.DefaultBranch}} {
		if b.name != "" && !isBranchName(b.name) {
			return bad("%s %q is not a valid branch name", b.field, clip(b.name))
		}
	}
	return nil
}

// CheckRepoPath checks a project path ("group/sub/project"): segments of
// letters, digits, '_', '-' and '.', none empty, "." or "..". A path that
// passes is its own cleaned form, so an allowlist glob matches what the
// store's keys are built from.
func CheckRepoPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty")
	}
	if len(p) > maxPathLen {
		return fmt.Errorf("%d bytes long; at most %d are accepted", len(p), maxPathLen)
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%q has an empty segment", clip(p))
		case seg == "." || seg == "..":
			return fmt.Errorf("%q has a %q segment", clip(p), seg)
		case !isName(seg):
			return fmt.Errorf("%q: segment %q holds a character other than letters, digits, '_', '-' and '.'", clip(p), clip(seg))
		}
	}
	return nil
}

// IsSHA reports whether s is a full commit SHA: 40 (SHA-1) or 64 (SHA-256)
// lower-case hex digits.
func IsSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isName reports whether s holds only letters, digits, '_', '-' and '.',
// as forges allow in paths and user names.
func isName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isUserName(s string) bool { return isName(s) && s[0] != '-' && s[0] != '.' }

// isBranchName applies git check-ref-format's rules to a branch name.
func isBranchName(b string) bool {
	if len(b) > maxPathLen || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") ||
		strings.HasSuffix(b, ".lock") || strings.HasPrefix(b, "-") || b == "@" {
		return false
	}
	for _, bad := range []string{"..", "//", "@{", "/."} {
		if strings.Contains(b, bad) {
			return false
		}
	}
	if strings.HasPrefix(b, ".") {
		return false
	}
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	return true
}

// Clip cuts s to at most n bytes, at a UTF-8 boundary.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FirstLine is the first line of s, as Event.Body keeps it.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(s, " \t\r\n"), "\n")
	return Clip(strings.TrimRight(line, "\r"), MaxBodyLen)
}

// clip shortens a value for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
