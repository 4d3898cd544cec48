package github

import (
	"context"
	"fmt"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v88/github"
)

// installation is one installation of the App: its token source, which
// keeps the installation token until a minute before it expires, and an
// API client that sends it.
type installation struct {
	tokens *ghinstallation.Transport
	api    *gh.Client
}

// repoAPI returns the API client that may act on repo ("owner/name"):
// the token's, or that of the App's installation covering repo.
func (c *Client) repoAPI(ctx context.Context, repo string) (*gh.Client, error) {
	if c.token != nil {
		return c.token, nil
	}
	in, err := c.installationFor(ctx, repo)
	if err != nil {
		return nil, err
	}
	return in.api, nil
}

// orgAPI returns the API client that may act on an organisation.
func (c *Client) orgAPI(ctx context.Context, org string) (*gh.Client, error) {
	return c.repoAPI(ctx, org)
}

// installationFor finds the installation covering owner ("owner/name" for
// a repository, a login for an organisation): the one the last webhook
// from it named, else the one GitHub names when asked with the App's JWT.
func (c *Client) installationFor(ctx context.Context, owner string) (*installation, error) {
	key := strings.ToLower(owner)
	c.mu.Lock()
	id, ok := c.owners[key]
	c.mu.Unlock()
	if !ok {
		var inst *gh.Installation
		var resp *gh.Response
		var err error
		if o, n, found := strings.Cut(owner, "/"); found {
			inst, resp, err = c.app.Apps.GetRepositoryInstallation(ctx, o, n)
		} else {
			inst, resp, err = c.app.Apps.GetOrganizationInstallation(ctx, owner)
		}
		if err != nil {
			return nil, c.fail(fmt.Sprintf("find the GitHub App's installation on %s (is the App installed there?)", owner), resp, err)
		}
		id = inst.GetID()
		c.rememberInstallation(owner, id)
	}
	return c.installation(id)
}

// rememberInstallation records that installation id covers a repository
// (and its owner), as a webhook said. A token client has no use for it.
func (c *Client) rememberInstallation(repo string, id int64) {
	if c.token != nil || id <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owners[strings.ToLower(repo)] = id
	if owner, _, ok := strings.Cut(repo, "/"); ok {
		c.owners[strings.ToLower(owner)] = id
	}
}

// installation returns installation id's token source and client, made
// once. Each has an App transport of its own: ghinstallation writes to
// the App transport it refreshes tokens with.
func (c *Client) installation(id int64) (*installation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in := c.installs[id]; in != nil {
		return in, nil
	}
	tokens, err := ghinstallation.New(c.rt, c.opts.AppID, id, c.opts.AppKey)
	if err != nil {
		return nil, fmt.Errorf("github: the GitHub App's private key: %w", err)
	}
	tokens.BaseURL = c.apps.BaseURL
	api, err := c.newAPI(tokens, c.opts.Timeout)
	if err != nil {
		return nil, err
	}
	in := &installation{tokens: tokens, api: api}
	c.installs[id] = in
	return in, nil
}

// cloneToken is the password for fetching repo: the token, or a current
// installation token of the App.
func (c *Client) cloneToken(ctx context.Context, repo string) (string, error) {
	if c.token != nil {
		return c.opts.Token, nil
	}
	in, err := c.installationFor(ctx, repo)
	if err != nil {
		return "", err
	}
	tok, err := in.tokens.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("github: an installation token for %s: %w", repo, err)
	}
	return tok, nil
}
