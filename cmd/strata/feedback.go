package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/runner"
	"github.com/strata-iac/strata/runner/ui"
)

// feedbackFlags are the server's flags for run logs, the notes' links
// and the web page.
type feedbackFlags struct {
	publicURL                 string
	uiUsersFile, uiAuthHeader string
	uiAuthProxy, uiAdmins     []string
	uiSessionKeyFile          string
}

func (f *feedbackFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.publicURL, "public-url", "", "where people reach this server, e.g. https://strata.example.com: notes link each stack to its run's page under /ui")
	fl.StringVar(&f.uiUsersFile, "ui-users-file", "", "serve the web page under /ui to these accounts: lines NAME:BCRYPT_HASH:ROLE, ROLE viewer or admin")
	fl.StringVar(&f.uiAuthHeader, "ui-auth-header", "", "serve the web page under /ui to the user an authenticating proxy names in this header (e.g. X-Forwarded-User); needs --ui-auth-proxy")
	fl.StringSliceVar(&f.uiAuthProxy, "ui-auth-proxy", nil, "the authenticating proxy's addresses (CIDRs): --ui-auth-header is trusted from these only")
	fl.StringSliceVar(&f.uiAdmins, "ui-admins", nil, "users named by --ui-auth-header who have the admin role (may force-unlock); the others are viewers")
	fl.StringVar(&f.uiSessionKeyFile, "ui-session-key-file", "", "file holding the key that signs web page sign-ins, shared by replicas (else STRATA_UI_SESSION_KEY; default a random key per process)")
}

// feedback checks --public-url and builds the server's Feedback around
// the web page's configuration (f.ui, read before the server's secrets
// leave its environment). Run logs are redacted by red, the server's
// redactor of every secret it holds, the page's session key among them.
func (f *feedbackFlags) feedback(page *ui.Config, red *redact.Redactor) (runner.Feedback, error) {
	if f.publicURL != "" {
		u, err := url.Parse(f.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return runner.Feedback{}, fmt.Errorf("--public-url %q: give the server's address as people reach it, e.g. https://strata.example.com", f.publicURL)
		}
	}
	return runner.Feedback{PublicURL: f.publicURL, Redactor: red, UI: page}, nil
}

// ui configures the web page, or returns nil when no way to sign in is
// given: the page is never served anonymously.
func (f *feedbackFlags) ui(s serverFlags) (*ui.Config, error) {
	if f.uiUsersFile == "" && f.uiAuthHeader == "" {
		if len(f.uiAuthProxy) > 0 || len(f.uiAdmins) > 0 {
			return nil, errors.New("--ui-auth-proxy and --ui-admins go with --ui-auth-header")
		}
		return nil, nil
	}
	c := &ui.Config{ForgeWeb: map[string]string{"gitlab": s.gitlabURL, "github": githubWeb(s.githubURL)}}
	if f.uiUsersFile != "" {
		users, err := ui.ReadUsersFile(f.uiUsersFile)
		if err != nil {
			return nil, err
		}
		if len(users) == 0 {
			return nil, fmt.Errorf("--ui-users-file %s lists no account", f.uiUsersFile)
		}
		c.Users = users
	}
	if f.uiAuthHeader != "" {
		from, err := ui.ParsePrefixes(f.uiAuthProxy)
		if err != nil {
			return nil, fmt.Errorf("--ui-auth-proxy: %w", err)
		}
		if len(from) == 0 {
			return nil, errors.New("--ui-auth-header needs --ui-auth-proxy CIDR, the proxy's addresses: from anywhere else the header could be forged")
		}
		c.Proxy = &ui.ProxyAuth{Header: f.uiAuthHeader, From: from, Admins: f.uiAdmins}
	}
	key, err := secret("STRATA_UI_SESSION_KEY", f.uiSessionKeyFile)
	if err != nil {
		return nil, fmt.Errorf("web page session key: %w", err)
	}
	if key != "" {
		c.SessionKey = []byte(key)
	}
	return c, nil
}

// githubWeb is GitHub's web address for its API address: github.com for
// api.github.com, the host of GitHub Enterprise Server's /api/v3.
func githubWeb(api string) string {
	u, err := url.Parse(api)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Host == "api.github.com" {
		return "https://github.com"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
	return u.String()
}
