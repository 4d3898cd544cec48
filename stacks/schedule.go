package stacks

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
)

// ParseSchedule reads a drift schedule, as strata.yaml's drift.schedule
// and the server's --drift-schedule give it: a five-field cron expression
// or a descriptor (@daily, @every 6h), optionally after CRON_TZ=ZONE (or
// TZ=ZONE) and a space. now is when the schedule is checked; a schedule
// with no time to fire after it ("0 0 31 2 *", February 31st) is an error,
// since a scan on it would never run.
//
// It never panics. The cron library panics on a time zone prefix with
// nothing after it ("TZ=UTC"), so the prefix is read here, and the library
// is called under a guard for anything else it might not expect.
func ParseSchedule(spec string, now time.Time) (cron.Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("%q is empty; write a cron expression such as \"0 6 * * *\"", spec)
	}
	expr := strings.TrimSpace(spec)
	for _, prefix := range []string{"CRON_TZ=", "TZ="} {
		rest, ok := strings.CutPrefix(expr, prefix)
		if !ok {
			continue
		}
		zone, sched := rest, ""
		if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
			zone, sched = rest[:i], strings.TrimSpace(rest[i:])
		}
		switch {
		case zone == "":
			return nil, fmt.Errorf("%q names no time zone after %s; write it as \"CRON_TZ=Europe/Paris 0 6 * * *\"", spec, prefix)
		case sched == "":
			return nil, fmt.Errorf("%q has a time zone but no schedule after it; write it as \"%s%s 0 6 * * *\"", spec, prefix, zone)
		}
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("%q: unknown time zone %q; use an IANA name such as Europe/Paris or UTC", spec, zone)
		}
		expr = "CRON_TZ=" + zone + " " + sched
		break
	}
	s, err := guardedParse(expr)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression: %v", spec, err)
	}
	if _, every := s.(cron.ConstantDelaySchedule); !every && s.Next(now).IsZero() {
		return nil, fmt.Errorf("%q never fires: no date matches it (such as February 31st); write one that does", spec)
	}
	return s, nil
}

// guardedParse is cron.ParseStandard, turning a panic into an error.
func guardedParse(expr string) (s cron.Schedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("unreadable (%v)", p)
		}
	}()
	return cron.ParseStandard(expr)
}
