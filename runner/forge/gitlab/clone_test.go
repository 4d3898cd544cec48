package gitlab_test

import (
	"fmt"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/strata-iac/strata/runner/forge/gitlab"
)

func TestCloneAuth(t *testing.T) {
	const token = "glpat-clone-token-123456"
	c, err := gitlab.New(gitlab.Options{BaseURL: "https://GitLab.example.com/", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		"https://gitlab.example.com/acme/infra.git",
		"https://gitlab.example.com:443/acme/infra.git",
		"https://someone:old-token@gitlab.example.com/acme/infra.git",
	} {
		u, auth, err := c.CloneAuth(raw)
		if err != nil {
			t.Errorf("CloneAuth(%s): %v", raw, err)
			continue
		}
		if strings.Contains(u, "@") || strings.Contains(u, token) || !strings.HasSuffix(u, "gitlab.example.com/acme/infra.git") &&
			!strings.HasSuffix(u, "gitlab.example.com:443/acme/infra.git") {
			t.Errorf("CloneAuth(%s) URL = %s, want it without credentials", raw, u)
		}
		basic, ok := auth.(*githttp.BasicAuth)
		if !ok || basic.Username != "oauth2" || basic.Password != token {
			t.Errorf("CloneAuth(%s) auth = %#v", raw, auth)
		}
		if s := fmt.Sprint(auth); strings.Contains(s, token) {
			t.Errorf("auth prints the token: %s", s)
		}
	}

	for _, raw := range []string{
		"https://evil.example.com/acme/infra.git",
		"http://gitlab.example.com/acme/infra.git",
		"https://gitlab.example.com:8443/acme/infra.git",
		"ssh://git@gitlab.example.com/acme/infra.git",
		"file:///tmp/repo",
		"%zz",
	} {
		_, auth, err := c.CloneAuth(raw)
		if err == nil || auth != nil {
			t.Errorf("CloneAuth(%s) = %v, %v; want a refusal", raw, auth, err)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("refusal shows the token: %v", err)
		}
	}
}

func TestCloneAuthFileRemotes(t *testing.T) {
	c, err := gitlab.New(gitlab.Options{BaseURL: "http://127.0.0.1:8080", Token: "t", AllowFileRemotes: true})
	if err != nil {
		t.Fatal(err)
	}
	u, auth, err := c.CloneAuth("file:///tmp/repo.git")
	if err != nil || u != "file:///tmp/repo.git" || auth != nil {
		t.Errorf("file remote = %s, %v, %v", u, auth, err)
	}
	// A plain-HTTP GitLab (tests, in-cluster) gets the token over HTTP.
	if _, auth, err := c.CloneAuth("http://127.0.0.1:8080/a/b.git"); err != nil || auth == nil {
		t.Errorf("http GitLab: %v, %v", auth, err)
	}
}
