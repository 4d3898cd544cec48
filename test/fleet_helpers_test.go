package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/store"
	_ "github.com/strata-iac/strata/runner/store/s3" // s3:// for the fleet's store
)

// fleet is several `strata server` processes sharing one SQS queue, one
// DynamoDB lock table and one S3 store (on moto), each with a data
// directory of its own, as replicas behind a load balancer are.
type fleet struct {
	t                    testing.TB
	gl                   *fakegitlab.Server
	table, bucket, queue string
	replicas             []*e2eServer
	names                []string
	store                store.Store
	next                 int
	mu                   sync.Mutex
}

// fleetLease is --replica-lease in these tests: a dead replica's work
// goes to another after this long.
const fleetLease = "9s"

// newFleet makes the AWS resources with strata setup aws and starts n
// replicas named replica-a, replica-b, …
func newFleet(t testing.TB, gl *fakegitlab.Server, name string, n int, extra ...string) *fleet {
	t.Helper()
	f := &fleet{t: t, gl: gl, table: name + "-locks", bucket: name + "-artifacts", queue: name + "-events.fifo"}
	r := runStrata(t, nil, "setup", "aws", "--table", f.table, "--bucket", f.bucket, "--queue", f.queue)
	if r.code != 0 {
		t.Fatalf("setup aws: %s", r.stderr)
	}
	for i := range n {
		f.start(fmt.Sprintf("replica-%c", 'a'+i), extra...)
	}
	st, err := store.Open(context.Background(), "s3://"+f.bucket+"/strata")
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	return f
}

// start adds a replica.
func (f *fleet) start(name string, extra ...string) *e2eServer {
	f.t.Helper()
	args := append([]string{"--queue", "sqs://" + f.queue, "--locks", "dynamodb://" + f.table,
		"--store", "s3://" + f.bucket + "/strata", "--replica", name, "--replica-lease", fleetLease,
		// One lock sweep, at start: a later one could release the locks of
		// a merge request the test merged before its webhook is handled.
		"--sweep-interval", "1h"}, extra...)
	s := startServer(f.t, f.gl, f.t.TempDir(), args...)
	f.mu.Lock()
	f.replicas = append(f.replicas, s)
	f.names = append(f.names, name)
	f.mu.Unlock()
	return s
}

// replica returns the replica named name.
func (f *fleet) replica(name string) *e2eServer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(f.names, name); i >= 0 {
		return f.replicas[i]
	}
	f.t.Fatalf("no replica %s", name)
	return nil
}

// deliverAll sends every hook at once, spread over the replicas still
// running as a load balancer would, and fails unless each is answered 202.
func (f *fleet) deliverAll(hooks []fakegitlab.Hook) {
	f.t.Helper()
	var wg sync.WaitGroup
	codes := make([]int, len(hooks))
	var alive []*e2eServer
	f.mu.Lock()
	for _, s := range f.replicas {
		s.mu.Lock()
		if s.cmd != nil {
			alive = append(alive, s)
		}
		s.mu.Unlock()
	}
	f.mu.Unlock()
	for i, h := range hooks {
		s := alive[f.next%len(alive)]
		f.next++
		wg.Go(func() {
			resp, err := fakegitlab.Deliver(context.Background(), s.url("/events/gitlab"), webhookSecret, h)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			f.t.Fatalf("hook %d (%s): HTTP %d, want 202", i, hooks[i].Event(), c)
		}
	}
}

// logs are every replica's logs, for failure messages.
func (f *fleet) logs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for i, s := range f.replicas {
		fmt.Fprintf(&b, "==== %s\n%s", f.names[i], s.log())
	}
	return b.String()
}

// eventually polls cond until it holds or timeout passes.
func (f *fleet) eventually(timeout time.Duration, what string, cond func() bool) {
	f.t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("gave up after %s waiting for %s\n%s", timeout, what, f.logs())
		}
	}
}

// fleetRun is the part of a run record these tests read.
type fleetRun struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	MR        int64     `json:"mr"`
	State     string    `json:"state"`
	Replica   string    `json:"replica"`
	Error     string    `json:"error"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Scheduled time.Time `json:"scheduled_at"`
}

// runs reads the run records of repo: finished ones, or those in
// progress with active.
func (f *fleet) runs(repo string, active bool) []fleetRun {
	f.t.Helper()
	ctx := context.Background()
	prefix := "runs/gitlab/" + repo + "/"
	if active {
		prefix = "runs/active/"
	}
	keys, err := f.store.List(ctx, prefix)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []fleetRun
	for _, k := range keys {
		if !records.IsRecordKey(k) {
			continue // the run's log
		}
		data, err := f.store.Get(ctx, k)
		if err != nil {
			continue // finished between List and Get
		}
		var r fleetRun
		if err := json.Unmarshal(data, &r); err != nil {
			f.t.Fatalf("%s: %v", k, err)
		}
		out = append(out, r)
	}
	return out
}

// byMR groups runs of one operation by merge request, in start order.
func byMR(runs []fleetRun, op string) map[int64][]fleetRun {
	out := map[int64][]fleetRun{}
	for _, r := range runs {
		if r.Operation == op {
			out[r.MR] = append(out[r.MR], r)
		}
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b fleetRun) int { return a.StartedAt.Compare(b.StartedAt) })
	}
	return out
}

// completed keeps the runs that completed.
func completed(per map[int64][]fleetRun) map[int64][]fleetRun {
	out := map[int64][]fleetRun{}
	for mr, runs := range per {
		for _, r := range runs {
			if r.State == "completed" {
				out[mr] = append(out[mr], r)
			}
		}
	}
	return out
}
