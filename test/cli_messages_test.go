package test

import (
	"strings"
	"testing"
)

// TestServerHelpShowsPlaceholders: --appliers shows what it takes, not the
// words of its description (pflag reads a back-quoted word in a usage as
// the placeholder: it showed "--appliers strata apply").
func TestServerHelpShowsPlaceholders(t *testing.T) {
	r := runStrata(t, nil, "server", "--help")
	if r.code != 0 {
		t.Fatalf("server --help: exit %d: %s", r.code, r.stderr)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "--appliers") && !strings.Contains(line, "--appliers USER[,group:PATH|team:ORG/SLUG] ") {
			t.Errorf("the --appliers line reads %q, want the placeholder USER[,group:PATH|team:ORG/SLUG]", line)
		}
	}
	if !strings.Contains(r.stdout, "--webhook-max-bodies int") {
		t.Errorf("server --help lacks --webhook-max-bodies:\n%s", r.stdout)
	}
}

// TestLocksWithoutRegionNamesWhatExists: with no AWS region anywhere, a
// locks command says how to set one without suggesting a --region flag
// it does not have; setup aws, which has one, names it.
func TestLocksWithoutRegionNamesWhatExists(t *testing.T) {
	env := []string{"AWS_REGION=", "AWS_DEFAULT_REGION=", "AWS_PROFILE=", "AWS_CONFIG_FILE=" + t.TempDir() + "/none",
		"AWS_SHARED_CREDENTIALS_FILE=" + t.TempDir() + "/none"}
	r := runStrata(t, env, "locks", "list", "--locks", "dynamodb://any-table")
	if r.code != 1 || !strings.Contains(r.stderr, "no AWS region configured: set AWS_REGION") || strings.Contains(r.stderr, "--region") {
		t.Errorf("locks list without a region: exit %d, stderr %q; want the ways to set one, without --region", r.code, r.stderr)
	}
	r = runStrata(t, env, "setup", "aws", "--table", "t-ok", "--bucket", "b-ok")
	if r.code != 1 || !strings.Contains(r.stderr, "or --region") {
		t.Errorf("setup aws without a region: exit %d, stderr %q; want --region named", r.code, r.stderr)
	}
}
