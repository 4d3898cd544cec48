package github_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/github"
)

// webhookClient talks to github.com: GitHub's samples name its clone URLs.
func webhookClient(t *testing.T, opts github.Options) *github.Client {
	t.Helper()
	opts.Token = "ghp_unused_in_webhook_tests"
	return newClient(t, opts)
}

// signed is a delivery of body as event kind, signed with the test secret.
func signed(event string, body []byte, delivery string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/events/github", bytes.NewReader(body))
	r.Header.Set(github.HeaderEvent, event)
	r.Header.Set(github.HeaderSignature, fakegithub.Signature(secret, body))
	if delivery != "" {
		r.Header.Set(github.HeaderDelivery, delivery)
	}
	return r
}

func sampleEvent(t *testing.T, c *github.Client, event, sample string) (forge.Event, error) {
	t.Helper()
	return c.ParseWebhook(signed(event, fakegithub.Sample(sample), "72d3162e-cc78-11e3-81ab-4c9367dc0958"))
}

// TestRealSamples parses GitHub's own example payloads unchanged.
func TestRealSamples(t *testing.T) {
	c := webhookClient(t, github.Options{})
	const head = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	pull := forge.Event{
		Forge: "github", DeliveryID: "github-delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Repo: "Codertocat/Hello-World", ProjectID: 186853002, CloneURL: "https://github.com/Codertocat/Hello-World.git",
		DefaultBranch: "master", Number: 2, Title: "Update the README with new information.",
		URL: "https://github.com/Codertocat/Hello-World/pull/2", State: forge.StateOpened,
		SourceBranch: "changes", TargetBranch: "master", HeadSHA: head, HeadRef: "refs/pull/2/head", User: "Codertocat",
	}
	for _, tc := range []struct {
		sample string
		edit   func(*forge.Event)
	}{
		{"pull_request_opened", func(e *forge.Event) { e.Action = forge.ActionOpened }},
		{"pull_request_reopened", func(e *forge.Event) { e.Action = forge.ActionReopened }},
		{"pull_request_ready_for_review", func(e *forge.Event) { e.Action = forge.ActionOpened }},
		{"pull_request_synchronize", func(e *forge.Event) {
			e.Action, e.OldHeadSHA = forge.ActionUpdated, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
		}},
		{"pull_request_closed", func(e *forge.Event) { e.Action, e.State = forge.ActionClosed, forge.StateClosed }},
	} {
		ev, err := sampleEvent(t, c, "pull_request", tc.sample)
		if err != nil {
			t.Errorf("%s: %v", tc.sample, err)
			continue
		}
		want := pull
		tc.edit(&want)
		if tc.sample != "pull_request_opened" {
			want.Title, want.URL = ev.Title, ev.URL // the samples differ in these
		}
		if ev != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.sample, ev, want)
		}
	}

	ev, err := sampleEvent(t, c, "pull_request_review", "pull_request_review_dismissed")
	if err != nil || ev.Action != forge.ActionUnapproved || ev.Number != 2 || ev.HeadSHA != head {
		t.Errorf("a dismissed review: %+v, %v", ev, err)
	}
	ev, err = sampleEvent(t, c, "push", "push")
	if err != nil || ev.Action != forge.ActionPushed || ev.Repo != "Codertocat/Hello-World" || ev.Number != 0 ||
		ev.DefaultBranch != "master" || ev.HeadSHA != "6113728f27ae82c7b1a177c8d03f9e96e0adf246" {
		t.Errorf("a push to the default branch: %+v, %v", ev, err)
	}
	for _, tc := range []struct{ event, sample, why string }{
		{"pull_request", "pull_request_labeled", `action "labeled"`},
		{"issue_comment", "issue_comment_created", "comments on issues"},
		{"issue_comment", "issue_comment_edited", "edits never re-run"},
		{"pull_request_review", "pull_request_review_submitted", "does not change the approval"},
		{"ping", "ping", "ping"},
	} {
		_, err := sampleEvent(t, c, tc.event, tc.sample)
		if !errors.Is(err, forge.ErrIgnored) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want ignored (%s)", tc.sample, err, tc.why)
		}
	}
}

// untouchable is a body that fails the test if it is read.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("the body was read before the signature was checked")
	return 0, io.EOF
}

// TestSignature: no event is believed without a matching
// X-Hub-Signature-256; a missing or malformed one is refused unread.
func TestSignature(t *testing.T) {
	c := webhookClient(t, github.Options{})
	body := fakegithub.Sample("pull_request_opened")
	for name, set := range map[string]func(*http.Request){
		"missing":   func(r *http.Request) { r.Header.Del(github.HeaderSignature) },
		"malformed": func(r *http.Request) { r.Header.Set(github.HeaderSignature, "sha1=abc") },
		"twice":     func(r *http.Request) { r.Header.Add(github.HeaderSignature, r.Header.Get(github.HeaderSignature)) },
	} {
		r := signed("pull_request", body, "")
		r.Body = io.NopCloser(untouchable{t})
		set(r)
		if _, err := c.ParseWebhook(r); !errors.Is(err, forge.ErrUnauthorized) {
			t.Errorf("%s signature: %v", name, err)
		}
	}
	r := signed("pull_request", body, "")
	r.Header.Set(github.HeaderSignature, fakegithub.Signature("another secret", body))
	if _, err := c.ParseWebhook(r); !errors.Is(err, forge.ErrUnauthorized) {
		t.Errorf("signed with another secret: %v", err)
	}
	tampered := bytes.Replace(body, []byte(`"opened"`), []byte(`"closed"`), 1)
	r = signed("pull_request", body, "")
	r.Body = io.NopCloser(bytes.NewReader(tampered))
	if _, err := c.ParseWebhook(r); !errors.Is(err, forge.ErrUnauthorized) {
		t.Errorf("a body changed after signing: %v", err)
	}
	noSecret, err := github.New(github.Options{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = noSecret.ParseWebhook(signed("pull_request", body, ""))
	if !errors.Is(err, forge.ErrUnauthorized) || forge.WebhookStatus(err) != http.StatusUnauthorized {
		t.Errorf("no secret configured: %v", err)
	}
}

func TestBodyLimitAndDeliveryID(t *testing.T) {
	c := webhookClient(t, github.Options{MaxWebhookBytes: 1000})
	if _, err := sampleEvent(t, c, "pull_request", "pull_request_opened"); !errors.Is(err, forge.ErrTooLarge) {
		t.Errorf("a body over the limit: %v", err)
	}
	c = webhookClient(t, github.Options{})
	body := fakegithub.Sample("pull_request_opened")
	a, _ := c.ParseWebhook(signed("pull_request", body, ""))
	b, _ := c.ParseWebhook(signed("pull_request", body, ""))
	if a.DeliveryID == "" || a.DeliveryID != b.DeliveryID || !strings.HasPrefix(a.DeliveryID, "sha256:") {
		t.Errorf("without X-GitHub-Delivery: %q and %q", a.DeliveryID, b.DeliveryID)
	}
	for _, id := range []string{strings.Repeat("a", 65), "x y", "../../etc"} {
		if _, err := c.ParseWebhook(signed("pull_request", body, id)); !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("X-GitHub-Delivery %q: %v", id, err)
		}
	}
}

// mutate is the opened sample with fn applied to its decoded JSON.
func mutate(t *testing.T, sample string, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fakegithub.Sample(sample), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// TestPayloadValidation: what the payload names is checked before the
// event is queued.
func TestPayloadValidation(t *testing.T) {
	c := webhookClient(t, github.Options{})
	for name, fn := range map[string]func(m map[string]any){
		"dot-dot repository": func(m map[string]any) { obj(m, "repository")["full_name"] = "Codertocat/.." },
		"one-segment name":   func(m map[string]any) { obj(m, "repository")["full_name"] = "Hello-World" },
		"empty owner":        func(m map[string]any) { obj(m, "repository")["full_name"] = "/Hello-World" },
		"three segments":     func(m map[string]any) { obj(m, "repository")["full_name"] = "a/b/c" },
		"clone URL elsewhere": func(m map[string]any) {
			obj(m, "repository")["clone_url"] = "https://evil.example.com/Codertocat/Hello-World.git"
		},
		"clone URL over http": func(m map[string]any) {
			obj(m, "repository")["clone_url"] = "http://github.com/Codertocat/Hello-World.git"
		},
		"clone URL other repo": func(m map[string]any) { obj(m, "repository")["clone_url"] = "https://github.com/Codertocat/other.git" },
		"file clone URL":       func(m map[string]any) { obj(m, "repository")["clone_url"] = "file:///etc" },
		"short head SHA":       func(m map[string]any) { obj(m, "pull_request", "head")["sha"] = "ec26c3e" },
		"upper-case head SHA":  func(m map[string]any) { obj(m, "pull_request", "head")["sha"] = strings.Repeat("A", 40) },
		"no head SHA":          func(m map[string]any) { delete(obj(m, "pull_request", "head"), "sha") },
		"number 0":             func(m map[string]any) { obj(m, "pull_request")["number"] = 0 },
		"no repository ID":     func(m map[string]any) { delete(obj(m, "repository"), "id") },
		"not a pull request":   func(m map[string]any) { delete(m, "pull_request") },
		"no clone URL":         func(m map[string]any) { delete(obj(m, "repository"), "clone_url") },
		"credentials clone URL": func(m map[string]any) {
			obj(m, "repository")["clone_url"] = "https://u:p@github.com/Codertocat/Hello-World.git"
		},
	} {
		_, err := c.ParseWebhook(signed("pull_request", mutate(t, "pull_request_opened", fn), ""))
		if !errors.Is(err, forge.ErrBadPayload) {
			t.Errorf("%s: %v, want a bad payload", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "u:p@") {
			t.Errorf("%s: the error repeats credentials: %v", name, err)
		}
	}
	if _, err := c.ParseWebhook(signed("pull_request", []byte("{not json"), "")); !errors.Is(err, forge.ErrBadPayload) {
		t.Errorf("not JSON: %v", err)
	}
	files := webhookClient(t, github.Options{AllowFileRemotes: true})
	body := mutate(t, "pull_request_opened", func(m map[string]any) { obj(m, "repository")["clone_url"] = "file:///srv/git/infra.git" })
	if _, err := files.ParseWebhook(signed("pull_request", body, "")); err != nil {
		t.Errorf("file:// with AllowFileRemotes: %v", err)
	}
	ghes := webhookClient(t, github.Options{BaseURL: "https://ghe.example.com/api/v3"})
	body = mutate(t, "pull_request_opened", func(m map[string]any) {
		obj(m, "repository")["clone_url"] = "https://ghe.example.com/Codertocat/Hello-World.git"
	})
	if _, err := ghes.ParseWebhook(signed("pull_request", body, "")); err != nil {
		t.Errorf("a clone URL on the Enterprise host: %v", err)
	}
	if _, err := ghes.ParseWebhook(signed("pull_request", fakegithub.Sample("pull_request_opened"), "")); !errors.Is(err, forge.ErrBadPayload) {
		t.Errorf("a github.com clone URL sent to an Enterprise server: %v", err)
	}
}

// TestPullRequestEvents covers the actions built from the fake's state:
// drafts, forks, merges, retargets, reviews, comments and pushes.
func TestPullRequestEvents(t *testing.T) {
	s := fakegithub.New()
	t.Cleanup(s.Close)
	s.AddRepo(fakegithub.Repo{FullName: repo})
	c := newClient(t, github.Options{BaseURL: s.URL, Token: s.Token})
	drafts := newClient(t, github.Options{BaseURL: s.URL, Token: s.Token, PlanDrafts: true})
	parse := func(c *github.Client, h fakegithub.Hook) (forge.Event, error) {
		return c.ParseWebhook(hookRequest(t, h))
	}

	draft := s.AddPullRequest(repo, fakegithub.PullRequest{Draft: true})
	for _, action := range []string{"opened", "synchronize", "reopened"} {
		if _, err := parse(c, s.PullRequestHook(repo, draft.Number, action, "alice")); !errors.Is(err, forge.ErrIgnored) ||
			!strings.Contains(err.Error(), "--github-plan-drafts") {
			t.Errorf("draft %s: %v", action, err)
		}
	}
	if ev, err := parse(drafts, s.PullRequestHook(repo, draft.Number, "opened", "alice")); err != nil || ev.Action != forge.ActionOpened || !ev.Draft {
		t.Errorf("draft opened with PlanDrafts: %+v, %v", ev, err)
	}
	if ev, err := parse(c, s.PullRequestHook(repo, draft.Number, "closed", "alice")); err != nil || ev.Action != forge.ActionClosed {
		t.Errorf("a draft closed: %+v, %v", ev, err)
	}

	fork := s.AddPullRequest(repo, fakegithub.PullRequest{HeadRepo: "mallory/infra"})
	if ev, err := parse(c, s.PullRequestHook(repo, fork.Number, "opened", "mallory")); err != nil || !ev.Fork ||
		ev.HeadRef != "refs/pull/2/head" {
		t.Errorf("fork: %+v, %v", ev, err)
	}

	pr := s.AddPullRequest(repo, fakegithub.PullRequest{})
	s.UpdatePullRequest(repo, pr.Number, func(p *fakegithub.PullRequest) {
		p.State, p.Merged, p.MergeCommitSHA = "closed", true, fakegithub.SHA("merged")
	})
	if ev, err := parse(c, s.PullRequestHook(repo, pr.Number, "closed", "bob")); err != nil || ev.Action != forge.ActionMerged ||
		ev.MergeCommitSHA != fakegithub.SHA("merged") || ev.State != forge.StateMerged || ev.User != "bob" {
		t.Errorf("merged: %+v, %v", ev, err)
	}

	open := s.AddPullRequest(repo, fakegithub.PullRequest{})
	retarget := s.PullRequestHook(repo, open.Number, "edited", "alice")
	retarget.PreviousBase = "develop"
	if ev, err := parse(c, retarget); err != nil || ev.Action != forge.ActionUpdated || ev.OldHeadSHA != "" {
		t.Errorf("a new base branch: %+v, %v", ev, err)
	}
	if _, err := parse(c, s.PullRequestHook(repo, open.Number, "edited", "alice")); !errors.Is(err, forge.ErrIgnored) {
		t.Errorf("a title edit: %v", err)
	}

	if ev, err := parse(c, s.Review(repo, open.Number, "bob", "APPROVED")); err != nil || ev.Action != forge.ActionApproved || ev.User != "bob" {
		t.Errorf("approval: %+v, %v", ev, err)
	}
	if ev, err := parse(c, s.Review(repo, open.Number, "carol", "CHANGES_REQUESTED")); err != nil || ev.Action != forge.ActionUnapproved {
		t.Errorf("changes requested: %+v, %v", ev, err)
	}

	cm := s.Comment(repo, open.Number, "carol", "strata plan -s live/prod")
	ev, err := parse(c, cm)
	if err != nil || ev.Action != forge.ActionCommented || ev.Body != "strata plan -s live/prod" || ev.User != "carol" ||
		ev.NoteID != cm.CommentID || ev.Number != open.Number || ev.HeadRef == "" {
		t.Errorf("a comment on a pull request: %+v, %v", ev, err)
	}

	r, _ := s.Repo(repo)
	for _, h := range []fakegithub.PushHook{
		{Repo: r, Ref: "refs/heads/feature", After: fakegithub.SHA("x")},
		{Repo: r, Ref: "refs/tags/v1", After: fakegithub.SHA("x")},
		{Repo: r, Ref: "refs/heads/main", After: strings.Repeat("0", 40), Deleted: true},
	} {
		if _, err := parse(c, h); !errors.Is(err, forge.ErrIgnored) {
			t.Errorf("push to %s (deleted %v): %v", h.Ref, h.Deleted, err)
		}
	}
}
