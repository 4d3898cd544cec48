package ui

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
)

// TestDriftAndQueuePage: the drift page shows each known repository's
// stacks with the last scan's verdict and time, one not yet scanned as
// such, and the queue's depth.
func TestDriftAndQueuePage(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	infra := forge.RepoRef{Forge: "gitlab", Path: "acme/infra"}
	web := forge.RepoRef{Forge: "github", Path: "acme/web"}
	for _, r := range []forge.RepoRef{infra, web} {
		if _, err := f.st.Put(ctx, records.RepoKey(r), []byte(`{"forge":"`+r.Forge+`","repo":"`+r.Path+`","clone_url":"x"}`)); err != nil {
			t.Fatal(err)
		}
	}
	scan := `{"tick":"2026-11-30T04:00:00Z","run":"20261130T040000Z-abcd","replica":"r1","ref":"main","commit":"0123456789abcdef",
		"scanned_at":"2026-11-30T04:01:02Z","stacks":["live/app","live/db","live/net"],"drifted":["live/db"],"failed":["live/net"],"issues":{"live/db":41}}`
	if _, err := f.st.Put(ctx, records.DriftStateKey(infra), []byte(scan)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ui.cfg.Queue.Put(ctx, queue.Item{ID: "gitlab:1", Kind: "event", Group: "g", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	_, body, _ := get(t, f.signIn("vic", "vic-pw"), f.srv.URL+"/ui/drift")
	flat := regexp.MustCompile(`\s+`).ReplaceAllString(body, " ")
	for _, want := range []string{
		"<h2>gitlab/acme/infra</h2>", "Last scan 2026-11-30 04:01:02 UTC", `href="/ui/runs/gitlab/acme/infra/20261130T040000Z-abcd"`,
		`<code>live/db</code></td><td class="v-drifted">drifted</td><td>#41</td>`,
		`<code>live/app</code></td><td class="v-ok">in line</td>`,
		`<code>live/net</code></td><td class="v-failed">not checked</td>`,
		"<h2>github/acme/web</h2> <p class=\"muted\">Not scanned yet.</p>", `<td id="depth">1</td>`, `<td id="dead">0</td>`,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the drift page lacks %q:\n%s", want, flat)
		}
	}
}
