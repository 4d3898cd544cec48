package github_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/strata-iac/strata/runner/forge/github"
)

// TestCloneAuth: the token goes to the configured GitHub only, as the
// basic-auth password of x-access-token, never in the URL or String().
func TestCloneAuth(t *testing.T) {
	const token = "ghp_secretsecretsecret"
	c := newClient(t, github.Options{Token: token})
	url, auth, err := c.CloneAuth("https://someone:pw@github.com/acme/infra.git")
	if err != nil || url != "https://github.com/acme/infra.git" {
		t.Fatalf("CloneAuth = %q, %v", url, err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	auth.(interface{ SetAuth(*http.Request) }).SetAuth(req)
	if user, pass, ok := req.BasicAuth(); !ok || user != "x-access-token" || pass != token {
		t.Errorf("basic auth %q:%q", user, pass)
	}
	if strings.Contains(auth.String(), token) {
		t.Errorf("String() shows the token: %s", auth)
	}
	for _, bad := range []string{
		"https://gitlab.com/acme/infra.git",
		"http://github.com/acme/infra.git",
		"https://github.com.evil.example/acme/infra.git",
		"https://github.com/acme/../infra.git",
		"file:///srv/infra.git",
		"ssh://git@github.com/acme/infra.git",
	} {
		if _, _, err := c.CloneAuth(bad); err == nil {
			t.Errorf("CloneAuth(%q) accepted", bad)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("the error leaks the token: %v", err)
		}
	}
	files := newClient(t, github.Options{Token: token, AllowFileRemotes: true})
	if url, auth, err := files.CloneAuth("file:///srv/infra.git"); err != nil || auth != nil || url != "file:///srv/infra.git" {
		t.Errorf("file:// with AllowFileRemotes: %q, %v, %v", url, auth, err)
	}
	ghes := newClient(t, github.Options{Token: token, BaseURL: "https://ghe.example.com/api/v3/"})
	if _, _, err := ghes.CloneAuth("https://ghe.example.com/acme/infra.git"); err != nil {
		t.Errorf("Enterprise clone URL: %v", err)
	}
	if _, _, err := ghes.CloneAuth("https://github.com/acme/infra.git"); err == nil {
		t.Error("an Enterprise server sent its token to github.com")
	}
	cloud := newClient(t, github.Options{Token: token, BaseURL: "https://api.acme.ghe.com"})
	if _, _, err := cloud.CloneAuth("https://acme.ghe.com/acme/infra.git"); err != nil {
		t.Errorf("GitHub Enterprise Cloud with data residency: %v", err)
	}
}

func TestNewChecksItsOptions(t *testing.T) {
	for _, tc := range []struct {
		opts github.Options
		want string
	}{
		{github.Options{}, "no token and no GitHub App"},
		{github.Options{Token: "t", AppID: 1, AppKey: []byte("k")}, "not both"},
		{github.Options{AppID: 1}, "private key"},
		{github.Options{AppID: 1, AppKey: []byte("not a key")}, "private key"},
		{github.Options{Token: "t", BaseURL: "https://u:ghp_x@ghe.example.com/api/v3"}, "must not contain credentials"},
		{github.Options{Token: "t", BaseURL: "ftp://ghe.example.com"}, "http or https"},
	} {
		_, err := github.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "ghp_x") {
			t.Errorf("the error repeats the URL's secret: %v", err)
		}
	}
}
