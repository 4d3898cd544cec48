package forge

import (
	"encoding/json"
	"testing"
)

func TestMRRef(t *testing.T) {
	ref := MRRef{RepoRef: RepoRef{Forge: "gitlab", Path: "acme/sub/infra"}, Number: 12}
	if got := ref.String(); got != "gitlab/acme/sub/infra!12" {
		t.Fatalf("String = %q", got)
	}
	if back, ok := ParseMRRef(ref.String()); !ok || back != ref {
		t.Fatalf("ParseMRRef(%q) = %+v, %v", ref, back, ok)
	}
	for _, s := range []string{"drift@replica-1", "alice", "gitlab/acme!x", "gitlab/acme!0", "!3/x"} {
		if _, ok := ParseMRRef(s); ok {
			t.Errorf("ParseMRRef(%q) accepted", s)
		}
	}
	if got := ref.Short("gitlab/acme/sub/infra!7"); got != "!7" {
		t.Errorf("same repository: %q", got)
	}
	if got := ref.Short("gitlab/acme/other!7"); got != "gitlab/acme/other!7" {
		t.Errorf("other repository: %q", got)
	}
	pr := MRRef{RepoRef: RepoRef{Forge: "github", Path: "acme/infra"}, Number: 2}
	if got := pr.Short("github/acme/infra!1"); got != "#1" {
		t.Errorf("GitHub, same repository: %q, want #1", got)
	}
	if got := pr.Short("gitlab/acme/infra!1"); got != "gitlab/acme/infra!1" {
		t.Errorf("same path on another forge: %q", got)
	}
	// The JSON shape is that of queued sweep items and saved state.
	data, _ := json.Marshal(ref)
	if string(data) != `{"forge":"gitlab","repo":"acme/sub/infra","number":12}` {
		t.Errorf("JSON %s", data)
	}
}
