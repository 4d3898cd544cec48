package workspace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fault"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/workspace"
)

// TestCheckout: sessions open on the clone at any commit it holds; a
// commit a shallow clone lacks is a permanent error that says how to
// fetch the full history.
func TestCheckout(t *testing.T) {
	origin := gittest.New(t)
	origin.Write(map[string]string{"live/app/main.tf": "# one\n"})
	first := origin.Commit("one")
	origin.Write(map[string]string{"live/app/main.tf": "# two\n"})
	second := origin.Commit("two")

	full := gittest.New(t)
	full.Git("fetch", "-q", origin.Dir, "main")
	shallow := gittest.New(t)
	shallow.Git("fetch", "-q", "--depth", "1", "file://"+origin.Dir, "main")

	repo := workspace.Repo{RepoRef: forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}}
	ctx := context.Background()
	open := func(dir, sha string) error {
		c := &workspace.Checkout{Dir: dir, DataDir: t.TempDir()}
		s, err := c.Open(ctx, repo, sha)
		if err == nil {
			if _, rerr := s.Repo().Resolve(sha); rerr != nil {
				t.Errorf("session on %s cannot read %s: %v", dir, sha, rerr)
			}
			s.Close()
		}
		return err
	}
	for _, sha := range []string{first, second} {
		if err := open(full.Dir, sha); err != nil {
			t.Errorf("full clone, %s: %v", sha[:8], err)
		}
	}
	if err := open(shallow.Dir, second); err != nil {
		t.Errorf("shallow clone, its own commit: %v", err)
	}
	err := open(shallow.Dir, first)
	if err == nil || !fault.IsPermanent(err) || !strings.Contains(err.Error(), "GIT_DEPTH: 0") || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("shallow clone, an older commit: %v", err)
	}
	if _, err := (&workspace.Checkout{Dir: t.TempDir(), DataDir: t.TempDir()}).Open(ctx, repo, ""); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("no clone: %v", err)
	}
}
