package drift

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/runner/queue"
)

// lastTick is a schedule whose last tick has passed: it has no next time,
// as a cron expression for a date that never comes.
type lastTick struct{}

func (lastTick) Next(time.Time) time.Time { return time.Time{} }

// TestFireDropsAScheduleWithNoNextTick: a schedule that gives no next time
// is queued once and dropped, instead of being due again at once, for
// ever, which spun the loop on a core.
func TestFireDropsAScheduleWithNoNextTick(t *testing.T) {
	q, err := queue.OpenBolt(filepath.Join(t.TempDir(), "queue.db"), queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var logs strings.Builder
	d := &Scheduler{cfg: Config{Queue: q}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	plan := map[string]*scheduled{"gitlab/acme/infra": {
		repo: repoRecord{Forge: "gitlab", Repo: "acme/infra"}, spec: "0 0 31 2 *", sched: lastTick{}, next: now.Add(-time.Second),
	}}
	ctx := context.Background()
	for range 3 {
		d.fire(ctx, plan, now)
	}
	if len(plan) != 0 {
		t.Errorf("the schedule is still planned, due at %s: the loop would fire it again at once", plan["gitlab/acme/infra"].next)
	}
	if n, _ := q.Len(ctx); n != 1 {
		t.Errorf("%d scans queued, want the one that was due", n)
	}
	if !strings.Contains(logs.String(), "no time left to fire") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

func TestParseScheduleRefusesNeverFiring(t *testing.T) {
	if _, err := parseSchedule("0 0 31 2 *"); err == nil || !strings.Contains(err.Error(), "never fires") {
		t.Errorf("0 0 31 2 *: %v, want never fires", err)
	}
	if _, err := parseSchedule("TZ=UTC"); err == nil || !strings.Contains(err.Error(), "no schedule after it") {
		t.Errorf("TZ=UTC: %v, want an error", err)
	}
}
