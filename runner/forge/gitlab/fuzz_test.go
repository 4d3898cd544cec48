package gitlab_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

// FuzzParseWebhook: no delivery, whatever its event header, body or
// Idempotency-Key, makes the parser panic; it fails with a *WebhookError,
// or gives an event within the bounds the queue relies on.
func FuzzParseWebhook(f *testing.F) {
	for _, s := range []struct{ event, sample string }{
		{"Merge Request Hook", "merge_request"}, {"Merge Request Hook", "service_merge_request"},
		{"Note Hook", "note_merge_request"}, {"Note Hook", "note_issue"}, {"Push Hook", "push"},
	} {
		f.Add(s.event, fakegitlab.Sample(s.sample), "")
	}
	f.Add("Merge Request Hook", []byte(`{"object_kind":"merge_request","object_attributes":{"iid":-1,"action":"open","last_commit":{"id":"x"}}}`), "k")
	f.Add("Note Hook", []byte(`{"object_kind":"note","object_attributes":{"noteable_type":"MergeRequest","note":"strata plan\n@all"}}`), strings.Repeat("k", 300))
	f.Add("Confidential Note Hook", []byte(`{}`), "")
	c, err := gitlab.New(gitlab.Options{BaseURL: "https://gitlab.example.com", Token: "t", WebhookSecret: "s", MaxWebhookBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event string, body []byte, key string) {
		r := httptest.NewRequest(http.MethodPost, "/events/gitlab", bytes.NewReader(body))
		r.Header[gitlab.HeaderEvent] = []string{event}
		r.Header.Set(gitlab.HeaderToken, "s")
		r.Header[gitlab.HeaderIdempotencyKey] = []string{key}
		ev, err := c.ParseWebhook(r)
		if err != nil {
			var we *forge.WebhookError
			if !errors.As(err, &we) || forge.WebhookStatus(err) == http.StatusInternalServerError {
				t.Fatalf("error %v is not a webhook error with a 4xx or 200", err)
			}
			return
		}
		switch {
		case ev.Forge != "gitlab" || ev.DeliveryID == "" || len(ev.DeliveryID) > forge.MaxDeliveryIDLen:
			t.Fatalf("forge %q, delivery ID %q", ev.Forge, ev.DeliveryID)
		case ev.Number == 0 || ev.Repo == "" || ev.CloneURL == "":
			t.Fatalf("event without a merge request, project or clone URL: %+v", ev)
		case len(ev.Title) > forge.MaxTitleLen || len(ev.Body) > forge.MaxBodyLen || strings.Contains(ev.Body, "\n"):
			t.Fatalf("title of %d bytes, body %q: more than strata keeps", len(ev.Title), ev.Body)
		case !utf8.ValidString(ev.Title) || !utf8.ValidString(ev.Body):
			t.Fatalf("clipping cut a character: %q %q", ev.Title, ev.Body)
		}
	})
}
