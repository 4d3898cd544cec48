package github

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/strata-iac/strata/runner/forge"
)

// check refuses an event whose payload strata cannot trust to name what it
// acts on, before the event is queued: the repository
// must be a clean owner/name with an ID, the clone URL on the GitHub strata
// talks to and of that repository, numbers positive, commits full SHAs.
func (c *Client) check(ev forge.Event) error {
	switch {
	case !validRepo(ev.Repo):
		return bad("repository.full_name %q is not owner/name", ev.Repo)
	case ev.ProjectID <= 0:
		return bad("event without repository.id")
	case ev.CloneURL == "":
		return bad("event without repository.clone_url")
	case ev.Action != forge.ActionPushed && ev.Number <= 0:
		return bad("event without a pull request number")
	case ev.Action == forge.ActionCommented && ev.NoteID <= 0:
		return bad("issue_comment event without comment.id")
	}
	if err := c.checkCloneURL(ev.CloneURL, ev.Repo); err != nil {
		return bad("repository.clone_url: %v", err)
	}
	for _, sha := range []struct{ field, value string }{
		{"the head commit", ev.HeadSHA}, {"before", ev.OldHeadSHA}, {"merge_commit_sha", ev.MergeCommitSHA},
	} {
		if sha.value != "" && !validSHA(sha.value) {
			return bad("%s %q is not a 40-digit commit SHA", sha.field, sha.value)
		}
	}
	if ev.Action != forge.ActionCommented && ev.HeadSHA == "" {
		return bad("event without the head commit's SHA")
	}
	return nil
}

// validRepo reports whether name is owner/name, each segment made of what
// GitHub allows in names and neither "." nor "..".
func validRepo(name string) bool {
	owner, repo, ok := strings.Cut(name, "/")
	return ok && validSegment(owner) && validSegment(repo)
}

func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

func validSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// checkCloneURL accepts a clone URL on the scheme and host of the GitHub
// strata talks to, for repository repo, without credentials; file:// only
// with AllowFileRemotes. Its errors never repeat user info.
func (c *Client) checkCloneURL(raw, repo string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme == "file" {
		if !c.opts.AllowFileRemotes {
			return errors.New("file:// clone URLs are refused (the server allows them only with --allow-file-remotes)")
		}
		return nil
	}
	if u.User != nil {
		return errors.New("the clone URL holds credentials")
	}
	if u.Scheme != c.web.Scheme || hostPort(u) != hostPort(c.web) {
		return fmt.Errorf("%s://%s is not the GitHub at %s://%s (--github-url); refusing to send the token there",
			u.Scheme, u.Host, c.web.Scheme, c.web.Host)
	}
	if !strings.EqualFold(strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".git"), repo) {
		return fmt.Errorf("the clone URL's path %q is not repository %s", u.Path, repo)
	}
	return nil
}

// hostPort is u's lower-cased host with the scheme's default port made
// explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}
