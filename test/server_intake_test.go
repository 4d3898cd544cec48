package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// rawDelivery opens a connection to the server and sends a webhook's
// headers (with secret) and the first sent bytes of its body, declaring
// the whole body's length; the rest is for the caller to send, or not.
func rawDelivery(t *testing.T, srv *e2eServer, secret string, h fakegitlab.Hook, sent int) (net.Conn, []byte) {
	t.Helper()
	body := h.Payload()
	c, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /events/gitlab HTTP/1.1\r\nHost: strata\r\nContent-Type: application/json\r\n"+
		"X-Gitlab-Event: %s\r\nX-Gitlab-Token: %s\r\nContent-Length: %d\r\n\r\n", h.Event(), secret, len(body))
	if _, err := c.Write(body[:sent]); err != nil {
		t.Fatal(err)
	}
	return c, body[sent:]
}

// statusLine reads the HTTP status line the server answered on c, waiting
// at most a minute.
func statusLine(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(line)
}

// TestServerWrongSecretAnsweredAtOnce: a wrong secret is answered 401
// while the body is still unsent: it is never waited for, and the
// connection is closed.
func TestServerWrongSecretAnsweredAtOnce(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: 1})
	srv := startServer(t, gl, t.TempDir())

	c, _ := rawDelivery(t, srv, "not-the-secret", gl.MergeRequestHook(p.Path, 1, "open", "mallory"), 10)
	if line := statusLine(t, c); line != "HTTP/1.1 401 Unauthorized" {
		t.Fatalf("answer %q, want 401 before the body is sent", line)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("the connection was not closed after the 401: %v", err)
	}
}

// TestServerSlowBodyTimesOut: a body that does not arrive within
// --webhook-body-timeout is answered 408 and its connection closed, so
// slow senders cannot hold connections for as long as they like.
func TestServerSlowBodyTimesOut(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: 1})
	srv := startServer(t, gl, t.TempDir(), "--webhook-body-timeout", "2s")

	c, _ := rawDelivery(t, srv, webhookSecret, gl.MergeRequestHook(p.Path, 1, "open", "alice"), 100)
	if line := statusLine(t, c); line != "HTTP/1.1 408 Request Timeout" {
		t.Fatalf("answer %q, want 408", line)
	}
	if got := srv.metric(`strata_events_total{action="",forge="gitlab",result="timeout"}`); got != "1" {
		t.Errorf("timed-out deliveries counted %q, want 1", got)
	}
}

// TestServerBoundsBodiesReadAtOnce: with --webhook-max-bodies 2, six
// deliveries sending their bodies at once have two read and four waiting
// for their turn; once the bodies arrive, every one is queued.
func TestServerBoundsBodiesReadAtOnce(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	srv := startServer(t, gl, t.TempDir(), "--webhook-max-bodies", "2")

	type pending struct {
		c    net.Conn
		rest []byte
	}
	var all []pending
	for i := range 6 {
		iid := int64(i + 1)
		gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: iid})
		c, rest := rawDelivery(t, srv, webhookSecret, gl.MergeRequestHook(p.Path, iid, "open", "alice"), 100)
		all = append(all, pending{c, rest})
	}
	srv.eventually("two bodies read and four waiting", func() bool {
		return srv.metric("strata_webhook_bodies_reading") == "2" && srv.metric("strata_webhook_bodies_waiting") == "4"
	})
	var wg sync.WaitGroup
	lines := make([]string, len(all))
	for i, d := range all {
		wg.Go(func() {
			d.c.Write(d.rest)
			lines[i] = statusLine(t, d.c)
		})
	}
	wg.Wait()
	for i, l := range lines {
		if l != "HTTP/1.1 202 Accepted" {
			t.Errorf("delivery %d: %q, want 202", i+1, l)
		}
	}
}

// TestServerRefusesBadValuesBeforeQueueing: values that can never be
// handled get a 4xx at once instead of a 202, retries and a dead letter:
// a project path with "..", which passed an allowlist of gitlab/acme/**
// and stored its plans under other/secret; a head that is not a SHA; a
// negative iid; a clone URL on another host; a 2,000-byte
// Idempotency-Key, which used to get 503.
func TestServerRefusesBadValuesBeforeQueueing(t *testing.T) {
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: 1})
	data := t.TempDir()
	srv := startServer(t, gl, data)
	good := gl.MergeRequestHook(p.Path, 1, "open", "alice")

	dotdot := good
	dotdot.Project.Path = "acme/../other/secret"
	notSHA := good
	notSHA.HeadSHA = "HEAD~1"
	negative := good
	negative.IID = -3
	elsewhere := good
	elsewhere.Project.CloneURL = "https://attacker.example.com/acme/infra.git"
	for name, tc := range map[string]struct {
		hook fakegitlab.Hook
		want string
	}{
		"dot-dot path":   {dotdot, `"acme/../other/secret" has a ".." segment`},
		"non-SHA head":   {notSHA, `head commit "HEAD~1": want a commit SHA`},
		"negative iid":   {negative, `iid -3: want a positive number`},
		"foreign clone":  {elsewhere, `clone URL: gitlab: clone URL https://attacker.example.com is not on the GitLab`},
		"long key":       {good, "the Idempotency-Key header is 2000 bytes long; at most 255 are accepted"},
		"good, for sure": {good, "queued"},
	} {
		key := ""
		if name == "long key" {
			key = strings.Repeat("k", 2000)
		}
		req, err := fakegitlab.NewRequest(context.Background(), srv.url("/events/gitlab"), webhookSecret, tc.hook, key)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusBadRequest
		if name == "good, for sure" {
			want = http.StatusAccepted
		}
		if resp.StatusCode != want || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: HTTP %d %q, want %d naming %q", name, resp.StatusCode, body, want, tc.want)
		}
	}
	if got := srv.metric(`strata_events_total{action="opened",forge="gitlab",result="accepted"}`); got != "1" {
		t.Errorf("%s events accepted, want only the good one", got)
	}
	if _, err := os.Stat(filepath.Join(data, "store", "mr", "gitlab", "other")); err == nil {
		t.Error("something was stored under other/")
	}
}
