package gitlab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
)

// hookRequest is a webhook delivery with the right secret.
func hookRequest(t *testing.T, event string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/events/gitlab", bytes.NewReader(body))
	r.Header.Set(gitlab.HeaderEvent, event)
	r.Header.Set(gitlab.HeaderToken, secret)
	return r
}

func parse(t *testing.T, c *gitlab.Client, event string, body []byte) (forge.Event, error) {
	t.Helper()
	return c.ParseWebhook(hookRequest(t, event, body))
}

func webhookClient(t *testing.T) *gitlab.Client {
	t.Helper()
	return newClient(t, "https://gitlab.example.com", "glpat-unused-in-webhook-tests")
}

// TestRealSamples parses GitLab's own sample payloads unchanged.
func TestRealSamples(t *testing.T) {
	c := webhookClient(t)

	ev, err := parse(t, c, "Merge Request Hook", fakegitlab.Sample("merge_request"))
	if err != nil {
		t.Fatal(err)
	}
	want := forge.Event{
		Forge: "gitlab", DeliveryID: ev.DeliveryID, Action: forge.ActionOpened,
		Repo: "gitlabhq/gitlab-test", ProjectID: 1, CloneURL: "http://example.com/gitlabhq/gitlab-test.git",
		DefaultBranch: "master", Number: 1, Title: "MS-Viewport", URL: "http://example.com/diaspora/merge_requests/1",
		State: forge.StateOpened, SourceBranch: "ms-viewport", TargetBranch: "master",
		HeadSHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", HeadRef: "refs/merge-requests/1/head", User: "user1",
	}
	if ev != want {
		t.Errorf("merge_request.json:\n got %+v\nwant %+v", ev, want)
	}
	if !strings.HasPrefix(ev.DeliveryID, "sha256:") {
		t.Errorf("DeliveryID without Idempotency-Key = %q", ev.DeliveryID)
	}

	ev, err = parse(t, c, "Merge Request Hook", fakegitlab.Sample("service_merge_request"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != forge.ActionUpdated || ev.OldHeadSHA != "6ef047571374c96a2bf13c361efd1fb008b0063e" ||
		ev.HeadSHA != "0ab96a10266b95b4b533dcfd98738015fbe70889" || ev.Repo != "test/woodpecker" || ev.Fork {
		t.Errorf("service_merge_request.json (update with oldrev) = %+v", ev)
	}

	ev, err = parse(t, c, "Note Hook", fakegitlab.Sample("note_merge_request"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != forge.ActionCommented || ev.Body != "This MR needs work." || ev.User != "root" ||
		ev.NoteID != 1244 || ev.Number != 1 || ev.ProjectID != 5 || ev.Repo != "gitlab-org/gitlab-test" ||
		ev.HeadSHA != "562e173be03b8ff2efb05345d12df18815438a4b" || ev.TargetBranch != "markdown" ||
		ev.CloneURL != "http://example.com/gitlab-org/gitlab-test.git" || ev.HeadRef != "refs/merge-requests/1/head" {
		t.Errorf("note_merge_request.json = %+v", ev)
	}

	// An old payload shape without project or merge request IDs cannot be
	// acted on.
	_, err = parse(t, c, "Merge Request Hook", fakegitlab.Sample("group_merge_request"))
	if !errors.Is(err, forge.ErrBadPayload) || !strings.Contains(err.Error(), "project.id") {
		t.Errorf("group_merge_request.json: err = %v, want ErrBadPayload naming project.id", err)
	}
}

func TestIgnoredEvents(t *testing.T) {
	c := webhookClient(t)
	for _, tc := range []struct{ event, sample, why string }{
		{"Push Hook", "push", "Push Hook"},
		{"Pipeline Hook", "pipeline", "Pipeline Hook"},
		{"Emoji Hook", "emoji_merge_request", "Emoji Hook"},
		{"System Hook", "merge_request", "System Hook"},
		{"Note Hook", "note_issue", "Issue"},
		{"Note Hook", "note_commit", "Commit"},
		{"Note Hook", "note_snippet", "Snippet"},
		{"Confidential Note Hook", "note_merge_request", "internal"},
	} {
		_, err := parse(t, c, tc.event, fakegitlab.Sample(tc.sample))
		if !errors.Is(err, forge.ErrIgnored) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s %s: err = %v, want ErrIgnored mentioning %q", tc.event, tc.sample, err, tc.why)
		}
		if got := forge.WebhookStatus(err); got != http.StatusOK {
			t.Errorf("%s: status %d, want 200", tc.event, got)
		}
	}
}

// failingBody fails the test if the body is read.
type failingBody struct{ t *testing.T }

func (b failingBody) Read([]byte) (int, error) {
	b.t.Error("the body was read before the secret was checked")
	return 0, io.EOF
}

func TestWebhookSecret(t *testing.T) {
	c := webhookClient(t)
	body := fakegitlab.Sample("merge_request")
	for name, set := range map[string]func(h http.Header){
		"missing":          func(h http.Header) { h.Del(gitlab.HeaderToken) },
		"empty":            func(h http.Header) { h.Set(gitlab.HeaderToken, "") },
		"wrong":            func(h http.Header) { h.Set(gitlab.HeaderToken, "webhook-secret-for-tesTS") },
		"prefix":           func(h http.Header) { h.Set(gitlab.HeaderToken, secret[:10]) },
		"longer":           func(h http.Header) { h.Set(gitlab.HeaderToken, secret+"x") },
		"twice, one right": func(h http.Header) { h.Add(gitlab.HeaderToken, "other") },
	} {
		t.Run(name, func(t *testing.T) {
			r := hookRequest(t, "Merge Request Hook", body)
			r.Body = io.NopCloser(failingBody{t})
			set(r.Header)
			_, err := c.ParseWebhook(r)
			if !errors.Is(err, forge.ErrUnauthorized) || forge.WebhookStatus(err) != http.StatusUnauthorized {
				t.Fatalf("err = %v, want ErrUnauthorized → 401", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}

	none, err := gitlab.New(gitlab.Options{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r := hookRequest(t, "Merge Request Hook", body)
	if _, err := none.ParseWebhook(r); !errors.Is(err, forge.ErrUnauthorized) || !strings.Contains(err.Error(), "no webhook secret") {
		t.Errorf("no secret configured: err = %v", err)
	}
}

func TestMalformedWebhooks(t *testing.T) {
	c := webhookClient(t)
	for _, tc := range []struct {
		name, event, body, want string
	}{
		{"truncated JSON", "Merge Request Hook", `{"object_kind": "merge_request", "project": {`, "not JSON"},
		{"not JSON", "Note Hook", `<html>`, "not JSON"},
		{"wrong kind", "Merge Request Hook", `{"object_kind": "push"}`, `object_kind "push"`},
		{"wrong note kind", "Note Hook", `{"object_kind": "merge_request"}`, `object_kind "merge_request"`},
		{"wrong field type", "Merge Request Hook", `{"object_kind": "merge_request", "object_attributes": {"iid": "one"}}`, "not a Merge Request Hook"},
		{"no event header", "", `{}`, "X-Gitlab-Event"},
		{"no project", "Merge Request Hook", `{"object_kind": "merge_request", "object_attributes": {"iid": 3, "action": "open", "last_commit": {"id": "abc"}}}`, "project.id"},
		{"no head", "Merge Request Hook", `{"object_kind": "merge_request", "project": {"id": 1}, "object_attributes": {"iid": 3, "action": "open"}}`, "last_commit.id"},
	} {
		_, err := parse(t, c, tc.event, []byte(tc.body))
		if !errors.Is(err, forge.ErrBadPayload) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrBadPayload mentioning %q", tc.name, err, tc.want)
		}
		if forge.WebhookStatus(err) != http.StatusBadRequest {
			t.Errorf("%s: status %d", tc.name, forge.WebhookStatus(err))
		}
	}

	small, err := gitlab.New(gitlab.Options{Token: "t", WebhookSecret: secret, MaxWebhookBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	_, err = parse(t, small, "Merge Request Hook", fakegitlab.Sample("merge_request"))
	if !errors.Is(err, forge.ErrTooLarge) || forge.WebhookStatus(err) != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: err = %v", err)
	}
}

func TestMergeRequestActions(t *testing.T) {
	c := webhookClient(t)
	project := fakegitlab.Project{ID: 42, Path: "acme/infra/live", CloneURL: "https://gitlab.example.com/acme/infra/live.git"}
	head, old := fakegitlab.SHA("new"), fakegitlab.SHA("old")
	for _, tc := range []struct {
		hook fakegitlab.MergeRequestHook
		want forge.Action
	}{
		{fakegitlab.MergeRequestHook{Action: "open"}, forge.ActionOpened},
		{fakegitlab.MergeRequestHook{Action: "reopen"}, forge.ActionReopened},
		{fakegitlab.MergeRequestHook{Action: "update", OldRev: old}, forge.ActionUpdated},
		{fakegitlab.MergeRequestHook{Action: "update", PreviousTargetBranch: "develop"}, forge.ActionUpdated},
		{fakegitlab.MergeRequestHook{Action: "update"}, forge.ActionEdited},
		{fakegitlab.MergeRequestHook{Action: "approved"}, forge.ActionApproved},
		{fakegitlab.MergeRequestHook{Action: "approval"}, forge.ActionApproved},
		{fakegitlab.MergeRequestHook{Action: "unapproved"}, forge.ActionUnapproved},
		{fakegitlab.MergeRequestHook{Action: "unapproval"}, forge.ActionUnapproved},
		{fakegitlab.MergeRequestHook{Action: "merge", State: "merged", MergeCommitSHA: fakegitlab.SHA("m")}, forge.ActionMerged},
		{fakegitlab.MergeRequestHook{Action: "close", State: "closed"}, forge.ActionClosed},
	} {
		h := tc.hook
		h.Project, h.IID, h.HeadSHA, h.User = project, 7, head, "alice"
		h.SourceBranch, h.TargetBranch, h.Title = "grow-vpc", "main", "Grow the VPC"
		ev, err := parse(t, c, h.Event(), h.Payload())
		if err != nil {
			t.Errorf("%s: %v", h.Action, err)
			continue
		}
		if ev.Action != tc.want || ev.Repo != project.Path || ev.ProjectID != 42 || ev.Number != 7 ||
			ev.HeadSHA != head || ev.OldHeadSHA != h.OldRev || ev.User != "alice" || ev.CloneURL != project.CloneURL ||
			ev.SourceBranch != "grow-vpc" || ev.TargetBranch != "main" || ev.Title != "Grow the VPC" ||
			ev.MergeCommitSHA != h.MergeCommitSHA || ev.Fork || ev.HeadRef != "refs/merge-requests/7/head" {
			t.Errorf("%s (oldrev %q) = %+v, want action %s", h.Action, h.OldRev, ev, tc.want)
		}
	}

	h := fakegitlab.MergeRequestHook{Project: project, IID: 7, Action: "unlock_dance"}
	if _, err := parse(t, c, h.Event(), h.Payload()); !errors.Is(err, forge.ErrIgnored) {
		t.Errorf("unknown action: err = %v, want ErrIgnored", err)
	}
}

func TestForkDetection(t *testing.T) {
	c := webhookClient(t)
	project := fakegitlab.Project{ID: 42, Path: "acme/infra"}
	fork := fakegitlab.Project{ID: 77, Path: "mallory/infra"}

	mr := fakegitlab.MergeRequestHook{Project: project, IID: 3, Action: "open", SourceProject: fork}
	ev, err := parse(t, c, mr.Event(), mr.Payload())
	if err != nil || !ev.Fork || ev.Repo != "acme/infra" || ev.CloneURL != "https://gitlab.example.com/acme/infra.git" {
		t.Errorf("fork MR event = %+v, %v; want Fork and the target project's clone URL", ev, err)
	}
	note := fakegitlab.NoteHook{Project: project, IID: 3, NoteID: 9, Body: "strata plan", User: "mallory", SourceProject: fork}
	ev, err = parse(t, c, note.Event(), note.Payload())
	if err != nil || !ev.Fork {
		t.Errorf("fork note event = %+v, %v", ev, err)
	}
	mr.SourceProject = fakegitlab.Project{}
	ev, err = parse(t, c, mr.Event(), mr.Payload())
	if err != nil || ev.Fork {
		t.Errorf("same-project MR = %+v, %v; want not a fork", ev, err)
	}
}

func TestNoteEvents(t *testing.T) {
	c := webhookClient(t)
	project := fakegitlab.Project{ID: 42, Path: "acme/infra"}
	base := fakegitlab.NoteHook{Project: project, IID: 5, NoteID: 900, Body: "strata apply -s live/prod", User: "bob",
		HeadSHA: fakegitlab.SHA("h"), Action: "create"}

	ev, err := parse(t, c, base.Event(), base.Payload())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Action != forge.ActionCommented || ev.Body != base.Body || ev.User != "bob" || ev.NoteID != 900 ||
		ev.Number != 5 || ev.HeadSHA != base.HeadSHA || ev.ProjectID != 42 || ev.URL == "" {
		t.Errorf("note = %+v", ev)
	}

	edited := base
	edited.Action = "update"
	if _, err := parse(t, c, edited.Event(), edited.Payload()); !errors.Is(err, forge.ErrIgnored) {
		t.Errorf("edited note: err = %v, want ErrIgnored", err)
	}
	system := base
	system.System = true
	if _, err := parse(t, c, system.Event(), system.Payload()); !errors.Is(err, forge.ErrIgnored) {
		t.Errorf("system note: err = %v, want ErrIgnored", err)
	}
}

func TestDeliveryID(t *testing.T) {
	c := webhookClient(t)
	h := fakegitlab.MergeRequestHook{Project: fakegitlab.Project{ID: 1, Path: "a/b"}, IID: 1, Action: "open"}
	ctx := context.Background()

	id := func(key string, hook fakegitlab.Hook) string {
		t.Helper()
		r, err := fakegitlab.NewRequest(ctx, "http://strata/events/gitlab", secret, hook, key)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := c.ParseWebhook(r)
		if err != nil {
			t.Fatal(err)
		}
		return ev.DeliveryID
	}
	if a, b := id("key-1", h), id("key-1", h); a != b || a != "gitlab-idempotency:key-1" {
		t.Errorf("a retry (same Idempotency-Key) got IDs %q and %q", a, b)
	}
	if id("key-1", h) == id("key-2", h) {
		t.Error("two events with the same body but distinct keys share an ID")
	}

	noKey := func(hook fakegitlab.Hook) string {
		r := hookRequest(t, hook.Event(), hook.Payload())
		ev, err := c.ParseWebhook(r)
		if err != nil {
			t.Fatal(err)
		}
		return ev.DeliveryID
	}
	other := h
	other.Action = "close"
	first, again := noKey(h), noKey(h)
	if first != again || first == noKey(other) {
		t.Error("without Idempotency-Key, the ID must be the same for the same body only")
	}
}

// TestDeliverOverHTTP sends webhooks the way GitLab does to a handler
// that maps errors with forge.WebhookStatus, and queues the event as JSON.
func TestDeliverOverHTTP(t *testing.T) {
	s, c := setup(t)
	mr := s.AddMergeRequest(repo, fakegitlab.MergeRequest{})
	var queued []forge.Event
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := c.ParseWebhook(r)
		if err != nil {
			http.Error(w, err.Error(), forge.WebhookStatus(err))
			return
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Error(err)
		}
		var back forge.Event
		if err := json.Unmarshal(b, &back); err != nil || back != ev {
			t.Errorf("event does not survive JSON: %+v vs %+v (%v)", back, ev, err)
		}
		queued = append(queued, back)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ctx := context.Background()

	for _, tc := range []struct {
		hook   fakegitlab.Hook
		secret string
		status int
	}{
		{s.MergeRequestHook(repo, mr.IID, "open", "alice"), secret, http.StatusAccepted},
		{s.Comment(repo, mr.IID, "bob", "strata plan"), secret, http.StatusAccepted},
		{s.Comment(repo, mr.IID, "bob", "strata plan"), "wrong", http.StatusUnauthorized},
		{rawHook{"Push Hook", fakegitlab.Sample("push")}, secret, http.StatusOK},
		{rawHook{"Note Hook", []byte("{")}, secret, http.StatusBadRequest},
	} {
		resp, err := fakegitlab.Deliver(ctx, srv.URL, tc.secret, tc.hook)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.hook.Event(), resp.StatusCode, tc.status)
		}
	}
	if len(queued) != 2 || queued[0].Action != forge.ActionOpened || queued[1].Body != "strata plan" ||
		queued[1].HeadSHA != mr.SHA || queued[0].CloneURL != s.URL+"/"+repo+".git" {
		t.Errorf("queued = %+v", queued)
	}
}

type rawHook struct {
	event string
	body  []byte
}

func (h rawHook) Event() string   { return h.event }
func (h rawHook) Payload() []byte { return h.body }
