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
// network): the newest page, and a page filtered by state and by stack,
// which reads further down the list. The first request of each reads
// the records from the store; later ones find the finished records read.
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
	cookie := &http.Cookie{Name: sessionCookie, Value: f.ui.sign.session(User{Name: "ada", Role: RoleAdmin}, time.Now())}
	for _, q := range []string{"", "state=failed&page=3", "repo=gitlab/acme/infra&stack=live/stack07"} {
		b.Run("q="+q, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "/ui/runs?"+q, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				f.mux.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d", w.Code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
