package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/strata-iac/strata/runner/drift"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// driftRepo is one repository on the drift page.
type driftRepo struct {
	Repo    string
	Scanned bool
	Scan    drift.LastScan
	RunPage string
	Stacks  []driftStack
}

type driftStack struct {
	Dir     string
	Verdict string // drifted, not checked, in line
	Class   string // the verdict's style: drifted, failed, ok
	Issue   int64
	Runs    string // the runs list of the stack
}

func (u *UI) driftPage(w http.ResponseWriter, r *http.Request, user User) {
	keys, err := u.cfg.Store.List(r.Context(), records.ReposPrefix)
	if err != nil {
		u.fail(w, "the repositories", err)
		return
	}
	var repos []driftRepo
	for _, k := range keys {
		name, ok := strings.CutSuffix(strings.TrimPrefix(k, records.ReposPrefix), ".json")
		forgeName, p, found := strings.Cut(name, "/")
		if !ok || !found {
			continue
		}
		ref := forge.RepoRef{Forge: forgeName, Path: p}
		scan, scanned, err := drift.ReadLastScan(r.Context(), u.cfg.Store, ref)
		if err != nil {
			u.fail(w, "the drift of "+ref.String(), err)
			return
		}
		d := driftRepo{Repo: ref.String(), Scanned: scanned, Scan: scan}
		if scanned && scan.Run != "" {
			d.RunPage = records.RunPage(ref, scan.Run)
		}
		for _, dir := range scan.Stacks {
			s := driftStack{Dir: dir, Verdict: "in line", Class: "ok", Issue: scan.Issues[dir],
				Runs: (runFilter{Repo: ref.String(), Stack: dir, Op: "drift"}).query(1)}
			switch {
			case slices.Contains(scan.Failed, dir):
				s.Verdict, s.Class = "not checked", "failed"
			case slices.Contains(scan.Drifted, dir):
				s.Verdict, s.Class = "drifted", "drifted"
			}
			d.Stacks = append(d.Stacks, s)
		}
		repos = append(repos, d)
	}
	u.render(w, "drift.html", page{Title: "Drift and queue", User: user, Nav: "drift", Body: map[string]any{
		"Repos": repos, "Queue": u.queueStats(r),
	}})
}
