package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// BenchmarkRunsPage renders a page of the runs list over 10,000 run
// records in a local store, as the server does (handler time, no
// network): the newest page, and pages filtered by state and by stack,
// which read further down the list. Cold is a replica's first request,
// every record read from the store; warm finds the finished records it
// read before.
func BenchmarkRunsPage(b *testing.B) {
	f := newFixture(b, nil)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	repos := []forge.RepoRef{{Forge: "gitlab", Path: "acme/infra"}, {Forge: "gitlab", Path: "acme/web"}, {Forge: "github", Path: "acme/net"}}
	for i := range 10000 {
		at := start.Add(time.Duration(i) * time.Minute)
		state := records.StateCompleted
		if i%10 == 0 {
			state = records.StateFailed
		}
		rec := records.Record{ID: at.Format("20060102T150405Z") + fmt.Sprintf("-%06d", i), Operation: planner.OpPlan,
			Forge: repos[i%3].Forge, Repo: repos[i%3].Path, MR: int64(i % 400), Commit: "0123456789abcdef", User: "alice",
			Trigger: records.TriggerUpdated, Replica: "r1", State: state, StartedAt: at, EndedAt: at.Add(time.Minute),
			Stacks: []records.StackOutcome{{Dir: fmt.Sprintf("live/stack%02d", i%40), Status: planner.StatusChanges}}}
		data, _ := json.Marshal(&rec)
		if _, err := f.st.Put(ctx, records.RunKey(rec.RepoRef(), rec.ID), data); err != nil {
			b.Fatal(err)
		}
	}
	cfg := f.ui.cfg
	cookie := &http.Cookie{Name: sessionCookie, Value: f.ui.sign.session(User{Name: "ada", Role: RoleAdmin}, time.Now())}
	serve := func(b *testing.B, mux *http.ServeMux, q string) {
		req := httptest.NewRequest("GET", "/ui/runs?"+q, nil)
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
	fresh := func(b *testing.B) *http.ServeMux {
		page, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		mux := http.NewServeMux()
		page.Register(mux)
		return mux
	}
	for _, q := range []string{"", "state=failed&page=3", "repo=gitlab/acme/infra&stack=live/stack07"} {
		// Cold: a replica that just started, every record read from the store.
		b.Run("cold/q="+q, func(b *testing.B) {
			var took time.Duration
			for b.Loop() {
				mux := fresh(b)
				start := time.Now()
				serve(b, mux, q)
				took += time.Since(start)
			}
			b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/page")
		})
		// Warm: the finished records already read once.
		b.Run("warm/q="+q, func(b *testing.B) {
			mux := fresh(b)
			serve(b, mux, q)
			for b.Loop() {
				serve(b, mux, q)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
