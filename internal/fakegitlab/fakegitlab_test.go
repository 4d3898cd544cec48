package fakegitlab_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

func start(t *testing.T) *fakegitlab.Server {
	t.Helper()
	s := fakegitlab.New()
	t.Cleanup(s.Close)
	s.AddProject(fakegitlab.Project{Path: "acme/infra"})
	return s
}

func get(t *testing.T, s *fakegitlab.Server, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestAuth(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		header []string
		want   int
	}{
		{nil, http.StatusUnauthorized},
		{[]string{"PRIVATE-TOKEN", "nope"}, http.StatusUnauthorized},
		{[]string{"PRIVATE-TOKEN", s.Token}, http.StatusOK},
		{[]string{"Authorization", "Bearer " + s.Token}, http.StatusOK},
	} {
		if resp := get(t, s, "/api/v4/user", tc.header...); resp.StatusCode != tc.want {
			t.Errorf("GET /user with %v: %d, want %d", tc.header, resp.StatusCode, tc.want)
		}
	}
	resp := get(t, s, "/api/v4/projects/acme%2Finfra/pipelines", "PRIVATE-TOKEN", s.Token)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown endpoint: %d", resp.StatusCode)
	}
	calls := s.Calls()
	if last := calls[len(calls)-1]; last.Route != "" || last.Path != "/api/v4/projects/acme%2Finfra/pipelines" {
		t.Errorf("unknown endpoint recorded as %+v", last)
	}
}

func TestPaginationHeaders(t *testing.T) {
	s := start(t)
	mr := s.AddMergeRequest("acme/infra", fakegitlab.MergeRequest{})
	for range 45 {
		s.AddNote("acme/infra", mr.IID, "alice", "hi")
	}
	resp := get(t, s, "/api/v4/projects/acme%2Finfra/merge_requests/1/notes?page=3", "PRIVATE-TOKEN", s.Token)
	h := resp.Header
	if h.Get("X-Total") != "45" || h.Get("X-Total-Pages") != "3" || h.Get("X-Per-Page") != "20" ||
		h.Get("X-Page") != "3" || h.Get("X-Next-Page") != "" || h.Get("X-Prev-Page") != "2" {
		t.Errorf("headers = %v", h)
	}
	var notes []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&notes); err != nil || len(notes) != 5 {
		t.Errorf("page 3: %d notes, %v", len(notes), err)
	}
}

func TestFailures(t *testing.T) {
	s := start(t)
	s.Fail(fakegitlab.Failure{Route: "GET /users", Times: 1, Status: 502})
	s.FailNext(1, 429, "7")
	if resp := get(t, s, "/api/v4/user", "PRIVATE-TOKEN", s.Token); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("first call: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := get(t, s, "/api/v4/user", "PRIVATE-TOKEN", s.Token); resp.StatusCode != 200 {
		t.Errorf("second call: %d", resp.StatusCode)
	}
	if resp := get(t, s, "/api/v4/users?username=x", "PRIVATE-TOKEN", s.Token); resp.StatusCode != 502 {
		t.Errorf("routed failure: %d", resp.StatusCode)
	}
	if resp := get(t, s, "/api/v4/users?username=x", "PRIVATE-TOKEN", s.Token); resp.StatusCode != 200 {
		t.Errorf("after the routed failure: %d", resp.StatusCode)
	}
}

// TestHookShapes checks that built hooks keep every key of GitLab's
// sample and that client-go reads the replaced fields.
func TestHookShapes(t *testing.T) {
	s := start(t)
	p, _ := s.Project("acme/infra")
	mr := s.AddMergeRequest("acme/infra", fakegitlab.MergeRequest{Title: "Grow", SourceBranch: "grow"})

	mh := s.MergeRequestHook("acme/infra", mr.IID, "update", "alice")
	mh.OldRev = fakegitlab.SHA("old")
	keysMatch(t, "merge_request", mh.Payload())
	ev, err := gl.ParseWebhook(gl.EventTypeMergeRequest, mh.Payload())
	if err != nil {
		t.Fatal(err)
	}
	m := ev.(*gl.MergeEvent)
	if m.Project.ID != p.ID || m.Project.PathWithNamespace != "acme/infra" || m.Project.GitHTTPURL != s.URL+"/acme/infra.git" ||
		m.ObjectAttributes.IID != mr.IID || m.ObjectAttributes.Action != "update" || m.ObjectAttributes.OldRev != mh.OldRev ||
		m.ObjectAttributes.LastCommit.ID != mr.SHA || m.ObjectAttributes.SourceBranch != "grow" || m.User.Username != "alice" ||
		m.ObjectAttributes.SourceProjectID != p.ID || m.ObjectAttributes.TargetProjectID != p.ID {
		t.Errorf("merge event = %+v", m.ObjectAttributes)
	}

	nh := s.Comment("acme/infra", mr.IID, "bob", "strata plan")
	keysMatch(t, "note_merge_request", nh.Payload())
	ev, err = gl.ParseWebhook(gl.EventTypeNote, nh.Payload())
	if err != nil {
		t.Fatal(err)
	}
	n := ev.(*gl.MergeCommentEvent)
	if n.ObjectAttributes.Note != "strata plan" || n.ObjectAttributes.ID != nh.NoteID || n.User.Username != "bob" ||
		n.MergeRequest.IID != mr.IID || n.MergeRequest.LastCommit.ID != mr.SHA || n.ProjectID != p.ID {
		t.Errorf("note event = %+v", n.ObjectAttributes)
	}
	if notes := s.Notes("acme/infra", mr.IID); len(notes) != 1 || notes[0].ID != nh.NoteID {
		t.Errorf("Comment did not add the note: %+v", notes)
	}
}

func keysMatch(t *testing.T, sample string, payload []byte) {
	t.Helper()
	var want, got map[string]any
	if err := json.Unmarshal(fakegitlab.Sample(sample), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"", "object_attributes"} {
		w, g := want, got
		if k != "" {
			w, g = want[k].(map[string]any), got[k].(map[string]any)
		}
		for key := range maps.Keys(w) {
			if _, ok := g[key]; !ok {
				t.Errorf("%s: built payload lacks %s.%s", sample, k, key)
			}
		}
	}
}

func TestDeliverHeaders(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		got = r.Header.Clone()
		if body, err = io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	h := fakegitlab.NoteHook{Project: fakegitlab.Project{ID: 3, Path: "a/b"}, IID: 2, Body: "strata help"}
	resp, err := fakegitlab.Deliver(context.Background(), srv.URL, "s3cret", h)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("X-Gitlab-Event") != "Note Hook" || got.Get("X-Gitlab-Token") != "s3cret" ||
		got.Get("X-Gitlab-Event-UUID") == "" || got.Get("Idempotency-Key") == "" || got.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", got)
	}
	if !strings.Contains(string(body), `"note":"strata help"`) {
		t.Errorf("body = %s", body)
	}
	names := []string{"merge_request", "note_merge_request", "service_merge_request", "group_merge_request",
		"push", "note_issue", "note_commit", "note_snippet", "pipeline", "emoji_merge_request"}
	for _, n := range names {
		if !json.Valid(fakegitlab.Sample(n)) {
			t.Errorf("sample %s is not JSON", n)
		}
	}
}
