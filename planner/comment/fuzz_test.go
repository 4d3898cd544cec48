package comment

import (
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/policy"
)

// FuzzRenderComment feeds arbitrary plan text, names, messages and policy
// results through the renderer: whatever they hold, every body fits and no
// code block or <details> is left open.
func FuzzRender(f *testing.F) {
	f.Add("  + resource \"x\" \"y\" {\n```\n</details>\n", "live/prod", "boom", "!1", 4_000)
	f.Add(strings.Repeat("  - gone\n", 500), "a`b|c", "<b>@x</b>", "#2", 1_500)
	f.Add("\r```\r\n~~~\n<<-EOT\n  - a\nEOT\n", "", "", "", 65_536)
	f.Fuzz(func(t *testing.T, plan, dir, msg, lockedBy string, maxSize int) {
		maxSize = minUseful + (maxSize%200_000+200_000)%200_000
		a := stack(dir, planner.StatusChanges, 1)
		a.PlanText = plan
		a.Counts = planner.Counts{Delete: 1}
		a.Changes = []planner.ResourceChange{{Address: msg, Action: planner.ActionDelete, Reason: msg}}
		a.Diagnostics = []planner.Diagnostic{{Severity: "warning", Summary: msg, Detail: plan, Range: msg}}
		a.Policy = &policy.Result{Outcome: policy.Fail, Error: plan,
			Failures: []policy.Message{{Namespace: msg, Rule: lockedBy, File: dir, Line: 1, Msg: plan}},
			Warnings: []policy.Message{{Namespace: lockedBy, Rule: msg, File: msg, Msg: msg}}}
		b := stack(dir+"/2", planner.StatusError, 2)
		b.Error = msg
		b.Diagnostics = []planner.Diagnostic{{Severity: "error", Summary: msg, Detail: plan}}
		c := stack(dir+"/3", planner.StatusLocked, 0)
		c.LockedBy = lockedBy
		s := summary("plan", a, b, c)
		s.Warnings = []string{msg}
		s.Deleted = []string{dir}
		opt := Options{MaxSize: maxSize, Marker: testMarker, Title: "strata plan"}
		checkBodies(t, s, opt, Render(s, opt))
	})
}
