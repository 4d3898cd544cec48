package stacks

import (
	"strings"
	"testing"
	"time"
)

var scheduleNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestParseScheduleRefusesWhatCannotRun: time zone prefixes without a
// schedule (on which the cron library panics), unknown zones and
// schedules that never fire are errors that say what to write instead;
// nothing panics.
func TestParseScheduleRefusesWhatCannotRun(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"TZ=", `"TZ=" names no time zone after TZ=`},
		{"CRON_TZ=", `"CRON_TZ=" names no time zone after CRON_TZ=`},
		{"TZ=UTC", `"TZ=UTC" has a time zone but no schedule after it; write it as "TZ=UTC 0 6 * * *"`},
		{"CRON_TZ=Europe/Paris   ", `has a time zone but no schedule after it`},
		{"TZ= 0 6 * * *", `names no time zone`},
		{"CRON_TZ=Mars/Olympus 0 6 * * *", `unknown time zone "Mars/Olympus"`},
		{"0 0 31 2 *", `"0 0 31 2 *" never fires`},
		{"CRON_TZ=UTC 0 0 30 2 *", `never fires`},
		{"every day", `"every day" is not a cron expression`},
		{"", `is empty`},
	} {
		_, err := ParseSchedule(tc.spec, scheduleNow)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
}

func TestParseScheduleAcceptsCronAndDescriptors(t *testing.T) {
	for spec, next := range map[string]string{
		"CRON_TZ=UTC 0 6 * * *":            "2026-03-04T06:00:00Z",
		"CRON_TZ=UTC @daily":               "2026-03-05T00:00:00Z",
		"CRON_TZ=Europe/Paris 0 6 * * 1-5": "2026-03-05T05:00:00Z",
		"TZ=UTC\t30 5 * * *":               "2026-03-04T05:30:00Z",
		"TZ=UTC 0 0 29 2 *":                "2028-02-29T00:00:00Z",
	} {
		s, err := ParseSchedule(spec, scheduleNow)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		if got := s.Next(scheduleNow).UTC().Format(time.RFC3339); got != next {
			t.Errorf("%q: next %s, want %s", spec, got, next)
		}
	}
	for _, spec := range []string{"0 6 * * *", "@every 6h", "@weekly"} {
		if _, err := ParseSchedule(spec, scheduleNow); err != nil {
			t.Errorf("%q: %v", spec, err)
		}
	}
}

// TestConfigScheduleNeverPanics: the strata.yaml line that used to crash
// the server is a config error naming the line.
func TestConfigScheduleNeverPanics(t *testing.T) {
	for _, spec := range []string{"TZ=", "CRON_TZ=", "TZ=UTC", "0 0 31 2 *"} {
		_, err := ParseConfig("strata.yaml", []byte("version: 1\ndrift: {schedule: \""+spec+"\"}\n"))
		if err == nil || !strings.HasPrefix(err.Error(), "strata.yaml:2: drift.schedule: ") {
			t.Errorf("%q: error %v, want one naming strata.yaml:2 and drift.schedule", spec, err)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 6 * * *", "@daily", "@every 1h30m", "TZ=", "CRON_TZ=UTC", "TZ=UTC 0 6 * * *",
		"CRON_TZ=Europe/Paris 0 6 * * 1-5", "0 0 31 2 *", "*/0 * * * *", "1-2-3 * * * *", "@every -1s", "TZ=UTC @weekly"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec, scheduleNow)
		if err != nil {
			if !strings.Contains(err.Error(), "\"") {
				t.Fatalf("error does not quote the schedule: %v", err)
			}
			return
		}
		if s.Next(scheduleNow).IsZero() {
			t.Fatalf("%q accepted but never fires", spec)
		}
	})
}
