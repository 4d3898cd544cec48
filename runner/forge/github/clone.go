package github

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// cloneUser is the HTTP user GitHub expects with a token as the password.
const cloneUser = "x-access-token"

// CloneAuth implements forge.Cloner. The token travels as HTTP basic auth
// (user x-access-token) in a header that go-git adds to each request,
// never in the URL: it stays out of remote configs, error messages and
// logs. The URL must be a repository's on the scheme and host of the
// configured GitHub, so a payload cannot direct the token elsewhere. An
// App's installation token is fetched (or taken from the cache) as each
// request goes out, so a long-lived mirror never fetches with an expired
// one.
func (c *Client) CloneAuth(cloneURL string) (string, transport.AuthMethod, error) {
	u, err := url.Parse(cloneURL)
	if err != nil {
		return "", nil, errors.New("github: the clone URL is not a valid URL")
	}
	if u.Scheme == "file" {
		if !c.opts.AllowFileRemotes {
			return "", nil, errors.New("github: file:// clone URLs are refused (the server allows them only with --allow-file-remotes)")
		}
		return cloneURL, nil, nil
	}
	u.User = nil
	repo := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".git")
	if err := c.checkCloneURL(u.String(), repo); err != nil {
		return "", nil, errors.New("github: " + err.Error())
	}
	if !validRepo(repo) {
		return "", nil, errors.New("github: the clone URL does not name a repository as /owner/name.git")
	}
	if c.token != nil {
		return u.String(), &githttp.BasicAuth{Username: cloneUser, Password: c.opts.Token}, nil
	}
	return u.String(), &appAuth{c: c, repo: repo}, nil
}

// appAuth is go-git HTTP auth with a current installation token of the
// App. When none can be had, the request goes without, GitHub refuses
// it, and the fetch fails (and is retried); the cause is logged.
type appAuth struct {
	c    *Client
	repo string
}

func (a *appAuth) SetAuth(r *http.Request) {
	tok, err := a.c.cloneToken(r.Context(), a.repo)
	if err != nil {
		a.c.log.Error("github: cannot fetch with the GitHub App", "repo", a.repo, "err", err)
		return
	}
	r.SetBasicAuth(cloneUser, tok)
}

func (a *appAuth) Name() string { return "github-app-installation" }

func (a *appAuth) String() string { return a.Name() + " - " + cloneUser + ":*******" }
