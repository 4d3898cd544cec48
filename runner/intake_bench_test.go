package runner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegithub"
	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/queue"
)

// BenchmarkWebhookIntake measures the webhook endpoint on loopback: secret
// check, parse, allowlist, durable enqueue, 202. It sends 10,000 real
// GitLab merge request hooks at 200 events/s and reports ack latency p50
// and p99 (target p99 < 10 ms), then as fast as 16 clients can and reports
// events per second.
func BenchmarkWebhookIntake(b *testing.B) {
	gl := fakegitlab.New()
	defer gl.Close()
	p := gl.AddProject(fakegitlab.Project{Path: "acme/infra"})
	gl.AddMergeRequest(p.Path, fakegitlab.MergeRequest{IID: 1})
	hook := gl.MergeRequestHook(p.Path, 1, "open", "alice")

	srv, q := newTestServer(b, gl)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	body := freeze(hook)
	measureIntake(b, q, func(ctx context.Context) (*http.Request, error) {
		return fakegitlab.NewRequest(ctx, hs.URL+"/events/gitlab", "s3cret", body, "")
	})
}

// BenchmarkGitHubWebhookIntake is BenchmarkWebhookIntake for GitHub: real
// pull_request payloads, each signed, its X-Hub-Signature-256 checked
// (HMAC-SHA256 over the whole body) before it is parsed and validated.
func BenchmarkGitHubWebhookIntake(b *testing.B) {
	gl, ghs := fakegitlab.New(), fakegithub.New()
	defer gl.Close()
	defer ghs.Close()
	r := ghs.AddRepo(fakegithub.Repo{FullName: "acme/infra"})
	ghs.AddPullRequest(r.FullName, fakegithub.PullRequest{Number: 1})
	hook := ghs.PullRequestHook(r.FullName, 1, "opened", "alice")

	srv, q, _ := newBothServer(b, gl, ghs)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	body := freeze(hook)
	measureIntake(b, q, func(ctx context.Context) (*http.Request, error) {
		return fakegithub.NewRequest(ctx, hs.URL+"/events/github", "s3cret", body, "")
	})
}

// measureIntake sends 10,000 webhooks (the same payload, fresh delivery
// IDs; a GitHub one is signed anew each time) at 200 a
// second and reports the ack latency's p50 and p99, then 10,000 more as
// fast as 16 clients can and reports events per second. Every one must be
// answered 202 and queued.
func measureIntake(b *testing.B, q *queue.Bolt, newRequest func(context.Context) (*http.Request, error)) {
	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	send := func() time.Duration {
		req, err := newRequest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("HTTP %d", resp.StatusCode)
		}
		return time.Since(t0)
	}

	const events, rate = 10_000, 200
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat := make([]time.Duration, 0, events)
		var mu sync.Mutex
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for n := 0; n < events; n++ {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := send()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
		slices.Sort(lat)
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms@200/s")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms@200/s")

		start := time.Now()
		work := make(chan int)
		for c := 0; c < 16; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					send()
				}
			}()
		}
		for n := 0; n < events; n++ {
			work <- n
		}
		close(work)
		wg.Wait()
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
	}
	if n, _ := q.Len(ctx); n != 2*events*b.N {
		b.Fatalf("%d events queued, want %d", n, 2*events*b.N)
	}
}

// frozen is a hook whose payload was built once, so that the benchmark's
// clients, which share the machine with the server, do not spend on
// building payloads the CPU the server's figures depend on.
type frozen struct {
	event   string
	payload []byte
}

func (f frozen) Event() string   { return f.event }
func (f frozen) Payload() []byte { return f.payload }

func freeze(h interface {
	Event() string
	Payload() []byte
}) frozen {
	return frozen{h.Event(), h.Payload()}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
