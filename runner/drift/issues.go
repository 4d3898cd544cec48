package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/lock"
)

// driftLabel is the label of every drift issue strata opens.
const driftLabel = "strata-drift"

// driftMarker is the hidden line that identifies the drift issue of one
// stack of one repository, in the form planner.RenderComment writes it.
func driftMarker(repo repoRecord, dir string) string {
	return comment.PartMarker(fmt.Sprintf("<!-- strata:drift %s %s -->", repo.ref().String(), dir), 1)
}

func driftTitle(dir string) string { return "strata: drift in " + dir }

// reconcileIssues opens or updates one issue per drifted stack and closes
// the issues of stacks back in line (or gone), and returns the open issues
// by stack. A stack that could not be checked keeps its issue as it is. A
// forge failure is logged and the issue is left as the last scan left it,
// for the next scan to settle.
func (d *Scheduler) reconcileIssues(ctx context.Context, repo repoRecord, ref string, sum planner.Summary, prev scanState) map[string]int64 {
	open := map[string]int64{}
	scanned := map[string]bool{}
	for _, r := range sum.Stacks {
		scanned[r.Name()] = true
		n, had := prev.Issues[r.Name()]
		switch r.Status {
		case planner.StatusChanges:
			is, err := d.upsertIssue(ctx, repo, ref, sum, r)
			if err != nil {
				d.log.Error("drift: cannot open or update the issue", "repo", repo.ref().String(), "stack", r.Name(), "err", err)
				if had {
					open[r.Name()] = n
				}
				continue
			}
			open[r.Name()] = is.Number
		case planner.StatusNoChanges:
			if had && !d.closeIssue(ctx, repo, r.Name(), n, fmt.Sprintf("`%s` is back in line with `%s` at %s.", r.Name(), ref, short(sum.Commit))) {
				open[r.Name()] = n
			}
		default:
			if had {
				open[r.Name()] = n
			}
		}
	}
	for dir, n := range prev.Issues {
		if !scanned[dir] && !d.closeIssue(ctx, repo, dir, n, fmt.Sprintf("`%s` is no longer a stack on `%s` at %s.", dir, ref, short(sum.Commit))) {
			open[dir] = n
		}
	}
	return open
}

// upsertIssue updates the open drift issue of a stack, found by its
// marker and label, or opens one.
func (d *Scheduler) upsertIssue(ctx context.Context, repo repoRecord, ref string, sum planner.Summary, r planner.Result) (forge.Issue, error) {
	marker := driftMarker(repo, r.Name())
	body := d.issueBody(ctx, repo, ref, sum, r, marker)
	is, found, err := d.cfg.Forges[repo.Forge].FindIssue(ctx, repo.Repo, forge.IssueQuery{Marker: marker, Labels: []string{driftLabel}})
	if err != nil {
		return forge.Issue{}, err
	}
	if found {
		is, err = d.cfg.Forges[repo.Forge].UpdateIssue(ctx, repo.Repo, is.Number, driftTitle(r.Name()), body)
		if err == nil {
			d.log.Info("drift: issue updated", "repo", repo.ref().String(), "stack", r.Name(), "issue", is.Number)
		}
		return is, err
	}
	is, err = d.cfg.Forges[repo.Forge].CreateIssue(ctx, repo.Repo, forge.NewIssue{Title: driftTitle(r.Name()), Body: body, Labels: []string{driftLabel}})
	if err == nil {
		d.log.Info("drift: issue opened", "repo", repo.ref().String(), "stack", r.Name(), "issue", is.Number)
	}
	return is, err
}

// issueBody is the drift report of one stack, followed by how to fix
// it. Comments on the issue do nothing: fixes go through merge requests.
func (d *Scheduler) issueBody(ctx context.Context, repo repoRecord, ref string, sum planner.Summary, r planner.Result, marker string) string {
	next := fmt.Sprintf("Fix this through a merge request, reviewed like any other change: either change the code "+
		"so it describes what is real, or open a merge request that touches %s and comment %s "+
		"on it to plan undoing the drift, then apply it as usual. Comments on this issue run nothing. strata closes "+
		"it once a scan finds the stack in line with %s.", comment.Code(r.Name()), comment.Code("strata plan -s "+r.Name()), comment.Code(ref))
	if l, ok, err := d.cfg.Locks.Get(ctx, lock.Key(repo.Forge, repo.Repo, r.Dir, r.Workspace)); err == nil && ok {
		by := forge.MRRef{RepoRef: repo.ref()}.Short(l.Owner)
		next = fmt.Sprintf("%s holds this stack's lock: what it applied before being merged shows here until it is. %s", comment.LockOwner(by), next)
	}
	one := planner.Summary{Operation: planner.OpDrift, Commit: sum.Commit, CreatedAt: sum.CreatedAt, Stacks: []planner.Result{r}}
	bodies := comment.Render(one, comment.Options{
		MaxSize: d.cfg.Forges[repo.Forge].CommentLimit(), Marker: marker,
		Title: fmt.Sprintf("strata drift · %s on %s", r.Name(), ref), Next: next,
	})
	return bodies[0]
}

// closeIssue says why an issue is resolved and closes it; it reports
// whether the issue is closed (or gone).
func (d *Scheduler) closeIssue(ctx context.Context, repo repoRecord, dir string, number int64, why string) bool {
	body := driftMarker(repo, dir) + "\n\n### ✅ Resolved\n\n" + why + " strata closed this issue."
	_, err := d.cfg.Forges[repo.Forge].UpdateIssue(ctx, repo.Repo, number, driftTitle(dir), body)
	if err == nil {
		err = d.cfg.Forges[repo.Forge].CloseIssue(ctx, repo.Repo, number)
	}
	switch {
	case err == nil:
		d.log.Info("drift: issue closed", "repo", repo.ref().String(), "stack", dir, "issue", number)
		return true
	case errors.Is(err, forge.ErrNotFound):
		return true
	}
	d.log.Error("drift: cannot close the issue", "repo", repo.ref().String(), "stack", dir, "issue", number, "err", err)
	return false
}

// notify posts a short message to --notify-webhook when the set of
// drifted stacks of a repository changed since the last scan. Failures are
// logged: the message is a courtesy, the issues and metrics are the record.
func (d *Scheduler) notify(ctx context.Context, repo repoRecord, prev, next scanState) {
	hook := d.cfg.NotifyWebhook
	if hook == "" || sameSet(prev.Drifted, next.Drifted) {
		return
	}
	text := d.cfg.Redactor.String(driftMessage(repo, prev, next))
	body, _ := json.Marshal(map[string]string{"text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		// The URL holds the webhook's secret: log the error without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		d.log.Warn("drift: notify webhook failed", "repo", repo.ref().String(), "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		d.log.Warn("drift: notify webhook refused the message", "repo", repo.ref().String(), "status", resp.StatusCode)
		return
	}
	d.log.Info("drift: notified", "repo", repo.ref().String(), "drifted", len(next.Drifted))
}

// driftMessage says in a line or two what changed.
func driftMessage(repo repoRecord, prev, next scanState) string {
	var b strings.Builder
	at := fmt.Sprintf("`%s` at %s", next.Ref, short(next.Commit))
	if len(next.Drifted) == 0 {
		fmt.Fprintf(&b, "strata: every stack of %s is back in line with %s.", repo.ref().String(), at)
	} else {
		fmt.Fprintf(&b, "strata: %d %s of %s drifted from %s: %s.", len(next.Drifted), "stack"+plural(len(next.Drifted)),
			repo.ref().String(), at, strings.Join(next.Drifted, ", "))
	}
	if added := minus(next.Drifted, prev.Drifted); len(added) > 0 && len(next.Drifted) > len(added) {
		fmt.Fprintf(&b, " New: %s.", strings.Join(added, ", "))
	}
	if back := minus(prev.Drifted, next.Drifted); len(back) > 0 && len(next.Drifted) > 0 {
		fmt.Fprintf(&b, " Back in line: %s.", strings.Join(back, ", "))
	}
	return b.String()
}

// minus lists the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func sameSet(a, b []string) bool { return len(minus(a, b)) == 0 && len(minus(b, a)) == 0 }
