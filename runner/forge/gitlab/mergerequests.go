package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/strata-iac/strata/runner/forge"
)

// perPage is the page size for every list call: GitLab's maximum.
const perPage = 100

// MergeRequest implements forge.MergeRequests.
func (c *Client) MergeRequest(ctx context.Context, repo string, number int64) (forge.MergeRequest, error) {
	mr, resp, err := c.api.MergeRequests.GetMergeRequest(repo, number, nil, gl.WithContext(ctx))
	if err != nil {
		return forge.MergeRequest{}, c.fail(fmt.Sprintf("get merge request %s!%d", repo, number), resp, err)
	}
	return toMergeRequest(repo, mr), nil
}

func toMergeRequest(repo string, mr *gl.MergeRequest) forge.MergeRequest {
	out := forge.MergeRequest{
		Repo:         repo,
		Number:       mr.IID,
		Title:        mr.Title,
		URL:          mr.WebURL,
		State:        forge.MRState(mr.State),
		Draft:        mr.Draft || workInProgress(mr),
		SourceBranch: mr.SourceBranch,
		TargetBranch: mr.TargetBranch,
		HeadSHA:      mr.SHA,
		Fork:         isFork(mr.SourceProjectID, mr.TargetProjectID),
		Conflicts:    mr.HasConflicts,
		MergeStatus:  mr.DetailedMergeStatus,
		Mergeable:    mr.DetailedMergeStatus == "mergeable" && !mr.HasConflicts,
	}
	if mr.Author != nil {
		out.Author = mr.Author.Username
	}
	if out.State == forge.StateMerged {
		out.MergedSHA = firstNonEmpty(mr.MergeCommitSHA, mr.SquashCommitSHA, mr.SHA)
	}
	return out
}

// Approvals implements forge.MergeRequests with GitLab's
// GET /projects/:id/merge_requests/:iid/approvals.
func (c *Client) Approvals(ctx context.Context, repo string, number int64) (forge.Approvals, error) {
	a, resp, err := c.api.MergeRequests.GetMergeRequestApprovals(repo, number, gl.WithContext(ctx))
	if err != nil {
		return forge.Approvals{}, c.fail(fmt.Sprintf("get approvals of merge request %s!%d", repo, number), resp, err)
	}
	out := forge.Approvals{
		Approved:   a.Approved,
		ApprovedBy: []string{},
		Required:   int(a.ApprovalsRequired),
		Left:       int(a.ApprovalsLeft),
	}
	for _, u := range a.ApprovedBy {
		if u != nil && u.User != nil {
			out.ApprovedBy = append(out.ApprovedBy, u.User.Username)
		}
	}
	return out, nil
}

// Merge implements forge.MergeRequests. GitLab answers 409 when the head
// is not opts.SHA, and 405, 406 or 422 when it will not merge. When a
// refusal follows a merge that did happen (a retried request whose first
// answer was lost), Merge reads the merge request and reports success.
func (c *Client) Merge(ctx context.Context, repo string, number int64, opts forge.MergeOptions) (forge.MergeRequest, error) {
	op := fmt.Sprintf("merge %s!%d at %s", repo, number, opts.SHA)
	if opts.SHA == "" {
		return forge.MergeRequest{}, &forge.APIError{Op: "gitlab: " + op, Message: "no head SHA given; strata merges only the commit it reviewed"}
	}
	req := &gl.AcceptMergeRequestOptions{SHA: gl.Ptr(opts.SHA)}
	if opts.Message != "" {
		req.MergeCommitMessage = gl.Ptr(opts.Message)
	}
	if opts.RemoveSourceBranch {
		req.ShouldRemoveSourceBranch = gl.Ptr(true)
	}
	mr, resp, err := c.api.MergeRequests.AcceptMergeRequest(repo, number, req, gl.WithContext(ctx))
	if err == nil {
		return toMergeRequest(repo, mr), nil
	}
	failure := c.fail(op, resp, err)
	var ae *forge.APIError
	if !errors.As(failure, &ae) {
		return forge.MergeRequest{}, failure
	}
	switch ae.Status {
	case http.StatusConflict:
		ae.Kind = forge.ErrHeadMoved
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusUnprocessableEntity:
		ae.Kind = forge.ErrNotMergeable
		if now, err := c.MergeRequest(ctx, repo, number); err == nil {
			if now.State == forge.StateMerged && now.HeadSHA == opts.SHA {
				return now, nil
			}
			ae.Message = strings.TrimSpace(ae.Message + " (state " + string(now.State) + ", merge status " + now.MergeStatus + ")")
		}
	}
	return forge.MergeRequest{}, ae
}

// MergedBy implements forge.MergeRequests with GitLab's
// GET /projects/:id/repository/commits/:sha/merge_requests, which lists
// the merge requests related to the commit (those whose commits hold it,
// and those it is the merge or squash commit of): the one that merged sha
// is merged and has it as merge commit, squash commit or, fast-forwarded,
// head.
func (c *Client) MergedBy(ctx context.Context, repo, sha string) (forge.MergeRequest, bool, error) {
	op := fmt.Sprintf("list the merge requests of commit %s in %s", sha, repo)
	mrs, resp, err := c.api.Commits.ListMergeRequestsByCommit(repo, sha, gl.WithContext(ctx))
	if err != nil {
		return forge.MergeRequest{}, false, c.fail(op, resp, err)
	}
	for _, b := range mrs {
		if b == nil || b.State != string(forge.StateMerged) {
			continue
		}
		if b.MergeCommitSHA == sha || b.SquashCommitSHA == sha || b.SHA == sha {
			mr, err := c.MergeRequest(ctx, repo, b.IID)
			return mr, err == nil, err
		}
	}
	return forge.MergeRequest{}, false, nil
}

// FindNote implements forge.Notes: it reads the notes oldest first, a
// hundred a page, and returns the first by strata's own user that holds
// marker.
func (c *Client) FindNote(ctx context.Context, repo string, number int64, marker string) (forge.Note, bool, error) {
	op := fmt.Sprintf("find note on merge request %s!%d", repo, number)
	if marker == "" {
		return forge.Note{}, false, &forge.APIError{Op: "gitlab: " + op, Message: "empty marker"}
	}
	me, err := c.self(ctx)
	if err != nil {
		return forge.Note{}, false, err
	}
	opt := &gl.ListMergeRequestNotesOptions{
		ListOptions: gl.ListOptions{Page: 1, PerPage: perPage},
		OrderBy:     gl.Ptr("created_at"),
		Sort:        gl.Ptr("asc"),
	}
	for {
		notes, resp, err := c.api.Notes.ListMergeRequestNotes(repo, number, opt, gl.WithContext(ctx))
		if err != nil {
			return forge.Note{}, false, c.fail(op, resp, err)
		}
		for _, n := range notes {
			if !n.System && n.Author.ID == me.ID && strings.Contains(n.Body, marker) {
				return toNote(n), true, nil
			}
		}
		if resp.NextPage == 0 {
			return forge.Note{}, false, nil
		}
		opt.Page = resp.NextPage
	}
}

// CreateNote implements forge.Notes.
func (c *Client) CreateNote(ctx context.Context, repo string, number int64, body string) (forge.Note, error) {
	op := fmt.Sprintf("create note on merge request %s!%d", repo, number)
	if err := checkLength(op, body); err != nil {
		return forge.Note{}, err
	}
	n, resp, err := c.api.Notes.CreateMergeRequestNote(repo, number,
		&gl.CreateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	if err != nil {
		return forge.Note{}, c.fail(op, resp, err)
	}
	return toNote(n), nil
}

// UpdateNote implements forge.Notes.
func (c *Client) UpdateNote(ctx context.Context, repo string, number, id int64, body string) (forge.Note, error) {
	op := fmt.Sprintf("update note %d on merge request %s!%d", id, repo, number)
	if err := checkLength(op, body); err != nil {
		return forge.Note{}, err
	}
	n, resp, err := c.api.Notes.UpdateMergeRequestNote(repo, number, id,
		&gl.UpdateMergeRequestNoteOptions{Body: gl.Ptr(body)}, gl.WithContext(ctx))
	if err != nil {
		return forge.Note{}, c.fail(op, resp, err)
	}
	return toNote(n), nil
}

func checkLength(op, body string) error {
	if n := utf8.RuneCountInString(body); n > CommentLimit {
		return &forge.APIError{Op: "gitlab: " + op, Kind: forge.ErrTooLong,
			Message: fmt.Sprintf("%d characters, GitLab accepts %d", n, CommentLimit)}
	}
	return nil
}

func toNote(n *gl.Note) forge.Note {
	return forge.Note{ID: n.ID, Author: n.Author.Username, Body: n.Body}
}

// statusStates maps strata's states to GitLab's.
var statusStates = map[forge.StatusState]gl.BuildStateValue{
	forge.StatusPending: gl.Pending,
	forge.StatusRunning: gl.Running,
	forge.StatusSuccess: gl.Success,
	forge.StatusFailed:  gl.Failed,
}

// maxDescription is the longest status description GitLab stores.
const maxDescription = 255

// SetStatus implements forge.Statuses with POST /projects/:id/statuses/:sha.
// GitLab refuses to move a pending or running status to the state it
// already has ("Cannot transition status via :run from :running"); that
// answer counts as success, since the status shows what was asked.
func (c *Client) SetStatus(ctx context.Context, repo, sha string, st forge.Status) error {
	op := fmt.Sprintf("set status %s=%s on %s@%s", st.Name, st.State, repo, sha)
	state, ok := statusStates[st.State]
	if !ok {
		return &forge.APIError{Op: "gitlab: " + op, Message: fmt.Sprintf("unknown status state %q", st.State)}
	}
	if st.Name == "" {
		return &forge.APIError{Op: "gitlab: " + op, Message: "status without a name"}
	}
	req := &gl.SetCommitStatusOptions{State: state, Name: gl.Ptr(st.Name)}
	if st.Description != "" {
		req.Description = gl.Ptr(truncate(st.Description, maxDescription))
	}
	if st.TargetURL != "" {
		req.TargetURL = gl.Ptr(st.TargetURL)
	}
	_, resp, err := c.api.Commits.SetCommitStatus(repo, sha, req, gl.WithContext(ctx))
	if err == nil {
		return nil
	}
	var er *gl.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusBadRequest &&
		alreadyInState(er.Message, state) {
		return nil
	}
	return c.fail(op, resp, err)
}

// alreadyInState reports whether msg is GitLab's refusal to move a status
// to state because it is in that state already, e.g. "Cannot transition
// status via :run from :running (Reason(s): ...)". Other refusals, such
// as running → pending, are real errors.
func alreadyInState(msg string, state gl.BuildStateValue) bool {
	if !strings.Contains(msg, "Cannot transition status") {
		return false
	}
	_, after, ok := strings.Cut(msg, "from :"+string(state))
	return ok && (after == "" || !isWordByte(after[0]))
}

func isWordByte(b byte) bool {
	return b == '_' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// truncate shortens s to n characters, ending with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// workInProgress reads the field GitLab versions before 14.0 set instead of
// draft; newer ones keep both in step.
func workInProgress(mr *gl.MergeRequest) bool {
	//lint:ignore SA1019 older GitLab versions set only work_in_progress.
	return mr.WorkInProgress
}
