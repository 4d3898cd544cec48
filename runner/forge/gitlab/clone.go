package gitlab

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// CloneAuth implements forge.Cloner. The token travels as HTTP basic auth
// (user "oauth2", GitLab's convention for access tokens) in a header that
// go-git adds to each request, never in the URL: it stays out of remote
// configs, reflogs, error messages and logs. The URL must use the scheme
// and host of the configured GitLab, so a payload cannot direct the token
// to another server or over plain HTTP when GitLab is on HTTPS.
func (c *Client) CloneAuth(cloneURL string) (string, transport.AuthMethod, error) {
	u, err := url.Parse(cloneURL)
	if err != nil {
		return "", nil, errors.New("gitlab: the clone URL is not a valid URL")
	}
	if u.Scheme == "file" {
		if !c.opts.AllowFileRemotes {
			return "", nil, errors.New("gitlab: file:// clone URLs are refused (the server allows them only with --allow-file-remotes)")
		}
		return cloneURL, nil, nil
	}
	if u.Scheme != c.base.Scheme || hostPort(u) != hostPort(c.base) {
		return "", nil, fmt.Errorf("gitlab: clone URL %s://%s is not on the GitLab at %s://%s; refusing to send the token there",
			u.Scheme, u.Host, c.base.Scheme, c.base.Host)
	}
	u.User = nil
	return u.String(), &githttp.BasicAuth{Username: "oauth2", Password: c.opts.Token}, nil
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
