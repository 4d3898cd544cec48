package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner"
	"github.com/strata-iac/strata/runner/drift"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/forge/gitlab"
	"github.com/strata-iac/strata/runner/lock"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
)

// syncBuffer is a log sink shared by goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// replica is one strata server running in the test process, with its own
// queue and data directory, and the Locker and Store it is given.
type replica struct {
	name string
	url  string
	logs *syncBuffer
}

func startReplica(t *testing.T, gl *fakegitlab.Server, st store.Store, locks lock.Locker, name string, settings drift.Settings) *replica {
	t.Helper()
	fg, err := gitlab.New(gitlab.Options{BaseURL: gl.URL, Token: gl.Token, WebhookSecret: webhookSecret, AllowFileRemotes: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	q, err := queue.OpenBolt(filepath.Join(t.TempDir(), "queue.db"), queue.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runner.New(runner.Config{
		Forges: []forge.Forge{fg}, Queue: q, Locks: locks, Store: st, DataDir: t.TempDir(),
		RepoAllowlist: []string{"gitlab/acme/**"}, AllowFileRemotes: true,
		Replica: name, ShutdownGrace: time.Minute, StackTimeout: 2 * time.Minute,
		Drift: settings, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		hs.Close()
		q.Close()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", name, logs)
		}
	})
	return &replica{name: name, url: hs.URL, logs: logs}
}

// sharedBackends are the Locker and Store replicas share.
func sharedBackends(t *testing.T) (store.Store, lock.Locker) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	locks, err := lock.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "locks.db"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { locks.Close() })
	return st, locks
}

// addProject makes g a project of the fake GitLab, cloned from disk.
func addProject(gl *fakegitlab.Server, path string, g *gittest.Repo) {
	gl.AddProject(fakegitlab.Project{Path: path, CloneURL: "file://" + g.Dir})
	gl.AddMergeRequest(path, fakegitlab.MergeRequest{
		IID: 1, Title: "an old change", Author: "alice", State: "closed",
		SourceBranch: "old", TargetBranch: "main", SHA: g.Git("rev-parse", "HEAD"),
	})
}

// introduce delivers a webhook of the project to a replica: the server
// learns repositories from their webhooks.
func introduce(t *testing.T, gl *fakegitlab.Server, r *replica, path string) {
	t.Helper()
	resp, err := fakegitlab.Deliver(t.Context(), r.url+"/events/gitlab", webhookSecret, gl.MergeRequestHook(path, 1, "close", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %s", resp.Status)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", timeout, what)
		}
	}
}

// runRecord is the part of a run record the tests read.
type runRecord struct {
	Operation string    `json:"operation"`
	State     string    `json:"state"`
	Replica   string    `json:"replica"`
	Scheduled time.Time `json:"scheduled_at"`
	Artifacts string    `json:"artifacts"`
	Stacks    []struct {
		Dir    string `json:"dir"`
		Status string `json:"status"`
	} `json:"stacks"`
}

func driftRuns(t *testing.T, st store.Store, repo string) []runRecord {
	t.Helper()
	keys, err := st.List(context.Background(), "runs/gitlab/"+repo+"/")
	if err != nil {
		t.Fatal(err)
	}
	var out []runRecord
	for _, k := range keys {
		if !records.IsRecordKey(k) {
			continue // the run's log
		}
		data, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		var rec runRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Operation == "drift" {
			out = append(out, rec)
		}
	}
	return out
}

// notifications collects the messages posted to a notify webhook.
type notifications struct {
	mu   sync.Mutex
	text []string
}

func (n *notifications) serve(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ Text string }
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || msg.Text == "" {
			http.Error(w, "want {\"text\": ...}", http.StatusBadRequest)
			return
		}
		n.mu.Lock()
		n.text = append(n.text, msg.Text)
		n.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/services/T000/B000/secret"
}

func (n *notifications) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string{}, n.text...)
}

func metricsText(t *testing.T, r *replica) string {
	t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestDriftServerIssues: a scheduled scan finds the stack whose resource
// was taken out of its S3 state, opens one issue with the resource's
// address (updated, not duplicated, by the next scans), records the run,
// sets the metrics and tells the notify webhook. A comment on the issue
// does nothing. Once the stack is applied again, the next scan closes the
// issue and says so.
func TestDriftServerIssues(t *testing.T) {
	bucket := "drift-srv"
	g, env := appliedInS3(t, bucket)
	stateRm(t, g, bucket, "live/prod/app", "module.app.terraform_data.service")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())

	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	addProject(gl, "acme/infra", g)
	st, locks := sharedBackends(t)
	var notes notifications
	hook := notes.serve(t)
	r := startReplica(t, gl, st, locks, "replica-a", drift.Settings{Schedule: "@every 2s", NotifyWebhook: hook, Refresh: time.Second})
	introduce(t, gl, r, "acme/infra")

	openIssues := func() []fakegitlab.Issue {
		var out []fakegitlab.Issue
		for _, is := range gl.Issues("acme/infra") {
			if is.State == "opened" {
				out = append(out, is)
			}
		}
		return out
	}
	eventually(t, 3*time.Minute, "a drift issue", func() bool { return len(openIssues()) > 0 })
	is := openIssues()[0]
	if is.Title != "strata: drift in live/prod/app" || !strings.Contains(is.Description, "module.app.terraform_data.service") ||
		!strings.Contains(is.Description, "<!-- strata:drift gitlab/acme/infra live/prod/app -->") || len(is.Labels) != 1 || is.Labels[0] != "strata-drift" {
		t.Errorf("issue %q labels %v:\n%s", is.Title, is.Labels, is.Description)
	}
	if !strings.Contains(is.Description, "merge request") || !strings.Contains(is.Description, "Comments on this issue run nothing") {
		t.Errorf("the issue does not say how to fix the drift:\n%s", is.Description)
	}
	first := len(driftRuns(t, st, "acme/infra"))
	eventually(t, 2*time.Minute, "another scan", func() bool { return len(driftRuns(t, st, "acme/infra")) > first })
	if n := len(gl.Issues("acme/infra")); n != 1 {
		t.Errorf("%d issues after two scans, want the one updated", n)
	}

	runs := driftRuns(t, st, "acme/infra")
	last := runs[len(runs)-1]
	if last.State != "completed" || last.Replica != "replica-a" || last.Scheduled.IsZero() || len(last.Stacks) != 6 {
		t.Errorf("run record %+v", last)
	}
	if report, err := st.Get(context.Background(), last.Artifacts+"/"+planner.DriftFile); err != nil || !strings.Contains(string(report), `"drifted": true`) {
		t.Errorf("drift.json of the run: %v\n%s", err, report)
	}
	m := metricsText(t, r)
	for _, want := range []string{
		`strata_stack_drifted{repo="gitlab/acme/infra",stack="live/prod/app"} 1`,
		`strata_stack_drifted{repo="gitlab/acme/infra",stack="live/prod/network"} 0`,
		"strata_drift_last_scan_timestamp_seconds 1.",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(r.logs.String(), "stack=live/prod/app") || !strings.Contains(r.logs.String(), "drifted=true") {
		t.Errorf("no log line gives the stack and its result")
	}

	// A comment on the issue is an issue note: ignored, nothing queued.
	resp, err := fakegitlab.Deliver(t.Context(), r.url+"/events/gitlab", webhookSecret, rawHook{fakegitlab.NoteHookEvent, fakegitlab.Sample("note_issue")})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a comment on an issue: %s, want 200 (ignored)", resp.Status)
	}

	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--stack", "live/prod/app", "--out", out); r.code != 2 {
		t.Fatalf("plan the fix: exit %d\n%s", r.code, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 {
		t.Fatalf("apply the fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	eventually(t, 3*time.Minute, "the issue closed", func() bool { return len(openIssues()) == 0 })
	closed := gl.Issues("acme/infra")[0]
	if !strings.Contains(closed.Description, "Resolved") || !strings.Contains(closed.Description, "back in line with `main`") {
		t.Errorf("closed issue:\n%s", closed.Description)
	}
	eventually(t, time.Minute, "the metric back to 0", func() bool {
		return strings.Contains(metricsText(t, r), `strata_stack_drifted{repo="gitlab/acme/infra",stack="live/prod/app"} 0`)
	})
	msgs := notes.all()
	if len(msgs) != 2 || !strings.Contains(msgs[0], "1 stack of gitlab/acme/infra drifted") || !strings.Contains(msgs[0], "live/prod/app") ||
		!strings.Contains(msgs[1], "back in line") {
		t.Errorf("notifications %q, want one when live/prod/app drifted and one when it was back", msgs)
	}
}

// rawHook is a sample payload sent as is.
type rawHook struct {
	event   string
	payload []byte
}

func (h rawHook) Event() string   { return h.event }
func (h rawHook) Payload() []byte { return h.payload }

// TestDriftSchedulerOneScanPerTick: two replicas share a Locker and a
// Store but not a queue; both queue every tick of the repository's
// drift.schedule (from its strata.yaml), and each tick is scanned exactly
// once.
func TestDriftSchedulerOneScanPerTick(t *testing.T) {
	needTerraform(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	g := gittest.New(t)
	g.Write(map[string]string{
		"strata.yaml":    "version: 1\ndrift:\n  schedule: \"@every 2s\"\n",
		"live/a/main.tf": `resource "terraform_data" "a" {}`,
	})
	g.Commit("one stack, scanned every 2s")
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	addProject(gl, "acme/sched", g)
	st, locks := sharedBackends(t)
	cfg := drift.Settings{Refresh: 500 * time.Millisecond}
	a := startReplica(t, gl, st, locks, "replica-a", cfg)
	b := startReplica(t, gl, st, locks, "replica-b", cfg)
	introduce(t, gl, a, "acme/sched")

	eventually(t, 2*time.Minute, "four scans", func() bool { return len(driftRuns(t, st, "acme/sched")) >= 4 })
	runs := driftRuns(t, st, "acme/sched")
	seen := map[time.Time]string{}
	for _, run := range runs {
		if by, dup := seen[run.Scheduled]; dup {
			t.Errorf("tick %s scanned twice: by %s and %s", run.Scheduled, by, run.Replica)
		}
		seen[run.Scheduled] = run.Replica
		if run.Scheduled.IsZero() || run.Scheduled.UnixNano()%int64(2*time.Second) != 0 {
			t.Errorf("tick %s is not on the 2s schedule", run.Scheduled)
		}
		if run.State != "completed" {
			t.Errorf("scan of %s: %s", run.Scheduled, run.State)
		}
	}
	for _, r := range []*replica{a, b} {
		if n := strings.Count(r.logs.String(), "drift: scan queued"); n < 3 {
			t.Errorf("%s queued %d scans: both replicas must compete for every tick", r.name, n)
		}
	}
	t.Logf("%d ticks scanned: %s", len(seen), fmt.Sprint(seen))
}
