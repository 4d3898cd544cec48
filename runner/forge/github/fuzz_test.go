package github_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

// FuzzParseWebhook: no signed delivery, whatever its event header, body
// or delivery ID, makes the parser panic; it fails with a *WebhookError,
// or gives an event within the bounds the queue relies on.
func FuzzParseWebhook(f *testing.F) {
	for _, s := range []struct{ event, sample string }{
		{"pull_request", "pull_request_opened"}, {"pull_request", "pull_request_synchronize"},
		{"pull_request", "pull_request_closed"}, {"issue_comment", "issue_comment_created"},
		{"pull_request_review", "pull_request_review_submitted"}, {"push", "push"}, {"ping", "ping"},
	} {
		f.Add(s.event, fakegithub.Sample(s.sample), "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	}
	f.Add("pull_request", []byte(`{"action":"opened","number":-1,"pull_request":{"head":{"sha":"x"}}}`), "d")
	f.Add("issue_comment", []byte(`{"action":"created","issue":{"number":1,"pull_request":{}},"comment":{"body":"strata plan\n@all"}}`), strings.Repeat("d", 300))
	c, err := github.New(github.Options{BaseURL: "https://api.github.com", Token: "t", WebhookSecret: "s", MaxWebhookBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event string, body []byte, delivery string) {
		r := httptest.NewRequest(http.MethodPost, "/events/github", bytes.NewReader(body))
		r.Header[github.HeaderEvent] = []string{event}
		r.Header[github.HeaderDelivery] = []string{delivery}
		r.Header.Set(github.HeaderSignature, fakegithub.Signature("s", body))
		ev, err := c.ParseWebhook(r)
		if err != nil {
			var we *forge.WebhookError
			if !errors.As(err, &we) || forge.WebhookStatus(err) == http.StatusInternalServerError {
				t.Fatalf("error %v is not a webhook error with a 4xx or 200", err)
			}
			return
		}
		switch {
		case ev.Forge != "github" || ev.DeliveryID == "" || len(ev.DeliveryID) > forge.MaxDeliveryIDLen:
			t.Fatalf("forge %q, delivery ID %q", ev.Forge, ev.DeliveryID)
		case ev.Repo == "" || ev.CloneURL == "":
			t.Fatalf("event without a repository or clone URL: %+v", ev)
		case ev.Number == 0 && ev.Action != forge.ActionPushed:
			t.Fatalf("event without a pull request: %+v", ev)
		case len(ev.Title) > forge.MaxTitleLen || len(ev.Body) > forge.MaxBodyLen || strings.Contains(ev.Body, "\n"):
			t.Fatalf("title of %d bytes, body %q: more than strata keeps", len(ev.Title), ev.Body)
		case !utf8.ValidString(ev.Title) || !utf8.ValidString(ev.Body):
			t.Fatalf("clipping cut a character: %q %q", ev.Title, ev.Body)
		}
	})
}
