package drift

import (
	"reflect"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/strata-iac/strata/planner"
)

// TestNextTick: replicas that start at different moments compute the same
// ticks, for cron expressions and for @every alike.
func TestNextTick(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, spec := range []string{"@every 90s", "@every 1h", "*/5 * * * *", "CRON_TZ=UTC 0 6 * * *"} {
		sched, err := parseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		a, b := nextTick(sched, base.Add(7*time.Second)), nextTick(sched, base.Add(41*time.Second))
		if !a.Equal(b) || !a.After(base) {
			t.Errorf("%s: replicas disagree: %s and %s", spec, a, b)
		}
		if again := nextTick(sched, a); !again.After(a) {
			t.Errorf("%s: the tick after %s is %s", spec, a, again)
		}
	}
	every, _ := parseSchedule("@every 90s")
	if _, ok := every.(cron.ConstantDelaySchedule); !ok {
		t.Fatalf("@every parses as %T", every)
	}
	if got := nextTick(every, base); got.UnixNano()%int64(90*time.Second) != 0 {
		t.Errorf("@every 90s tick %s is not a multiple of 90s", got)
	}
}

func TestVerdictsKeepDriftOfFailedStacks(t *testing.T) {
	report := planner.DriftReport{Stacks: []planner.DriftStack{
		{Dir: "a", Drifted: true},
		{Dir: "b", Error: "init: backend unreachable"},
		{Dir: "c", Error: "init: backend unreachable"},
		{Dir: "d"},
	}}
	all, drifted, failed := verdicts(report, scanState{Drifted: []string{"b", "d"}})
	if !reflect.DeepEqual(all, []string{"a", "b", "c", "d"}) || !reflect.DeepEqual(drifted, []string{"a", "b"}) || !reflect.DeepEqual(failed, []string{"b", "c"}) {
		t.Errorf("all %v, drifted %v, failed %v", all, drifted, failed)
	}
}

func TestDriftMessage(t *testing.T) {
	repo := repoRecord{Forge: "gitlab", Repo: "acme/infra"}
	at := scanState{Ref: "main", Commit: "0123456789abcdef"}
	for _, tc := range []struct {
		prev, next []string
		want       string
	}{
		{nil, []string{"live/a"}, "strata: 1 stack of gitlab/acme/infra drifted from `main` at 0123456789ab: live/a."},
		{[]string{"live/a"}, []string{"live/a", "live/b"}, "strata: 2 stacks of gitlab/acme/infra drifted from `main` at 0123456789ab: live/a, live/b. New: live/b."},
		{[]string{"live/a", "live/b"}, []string{"live/b"}, "strata: 1 stack of gitlab/acme/infra drifted from `main` at 0123456789ab: live/b. Back in line: live/a."},
		{[]string{"live/a"}, nil, "strata: every stack of gitlab/acme/infra is back in line with `main` at 0123456789ab."},
	} {
		next := at
		next.Drifted = tc.next
		if got := driftMessage(repo, scanState{Drifted: tc.prev}, next); got != tc.want {
			t.Errorf("%v → %v:\n got %s\nwant %s", tc.prev, tc.next, got, tc.want)
		}
	}
	if !sameSet([]string{"a", "b"}, []string{"b", "a"}) || sameSet([]string{"a"}, nil) {
		t.Error("sameSet")
	}
}
