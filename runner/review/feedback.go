package review

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/strata-iac/strata/planner"
	"github.com/strata-iac/strata/planner/comment"
	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
)

// verdict is what planning an apply's stacks again found: for the run
// record (and the metric) and for the note.
type verdict struct {
	record *records.Verification
	text   string
}

// verify plans the stacks sum applied again at sha. A failure to verify
// never fails the apply: it is reported as not verified.
func (r *Reviewer) verify(ctx context.Context, sess *planner.Session, ref forge.MRRef, sha string, sum planner.Summary) verdict {
	v, err := sess.Verify(ctx, sha, sum)
	if err != nil {
		r.log.Warn("cannot verify an apply", "mr", ref.String(), "err", err)
		return verdict{
			record: &records.Verification{Result: records.VerifyError, Error: err.Error()},
			text:   "⚠ not verified: strata could not plan the applied stacks again: " + oneLine(err.Error()),
		}
	}
	if len(v.Stacks) == 0 {
		return verdict{}
	}
	rec := &records.Verification{Result: records.VerifyVerified}
	for _, res := range v.Stacks {
		switch {
		case res.Status == planner.StatusChanges:
			rec.Result = records.VerifyNotConverged
			rec.Unconverged = append(rec.Unconverged, records.Unconverged{Dir: res.Name(), Addresses: planner.Addresses(res)})
		case res.Status != planner.StatusNoChanges && rec.Result == records.VerifyVerified:
			rec.Result, rec.Error = records.VerifyError, res.Name()+": "+oneLine(res.Error)
		}
	}
	r.log.Info("apply verified", "mr", ref.String(), "result", rec.Result, "remaining", v.Remaining())
	return verdict{record: rec, text: v.Markdown()}
}

// runLinks links each stack of sum to its section of rec's run page, when
// the server knows its public URL.
func (r *Reviewer) runLinks(rec *records.Record, sum planner.Summary) string {
	if r.cfg.PublicURL == "" || rec == nil || len(sum.Stacks) == 0 {
		return ""
	}
	page := strings.TrimRight(r.cfg.PublicURL, "/") + records.RunPage(rec.RepoRef(), rec.ID)
	links := make([]string, 0, len(sum.Stacks))
	for _, res := range sum.Stacks {
		links = append(links, fmt.Sprintf("[%s](%s#%s)", comment.Code(res.Name()), page, (&url.URL{Fragment: records.StackAnchor(res.Dir, res.Workspace)}).EscapedFragment()))
	}
	return fmt.Sprintf("Run logs (%s): %s", rec.Operation, strings.Join(links, " · "))
}

// footer is the end of a note after its next step: the verification of an
// apply and the links to the run's logs, each when there is one.
func footer(parts ...string) string {
	var out strings.Builder
	for _, p := range parts {
		if p != "" {
			out.WriteString("\n\n" + p)
		}
	}
	return out.String()
}
