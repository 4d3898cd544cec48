package forge

import (
	"context"

	"github.com/strata-iac/strata/internal/redact"
)

// Redacted is f with every secret r knows masked in every text strata
// sends it: notes, commit statuses, issues, merge commit messages. It is
// the choke point of what reaches the forge, whatever renders the text.
func Redacted(f Forge, r *redact.Redactor) Forge { return redacted{Forge: f, r: r} }

type redacted struct {
	Forge
	r *redact.Redactor
}

func (f redacted) CreateNote(ctx context.Context, repo string, number int64, body string) (Note, error) {
	return f.Forge.CreateNote(ctx, repo, number, f.r.String(body))
}

func (f redacted) UpdateNote(ctx context.Context, repo string, number, id int64, body string) (Note, error) {
	return f.Forge.UpdateNote(ctx, repo, number, id, f.r.String(body))
}

func (f redacted) SetStatus(ctx context.Context, repo, sha string, st Status) error {
	st.Description, st.TargetURL = f.r.String(st.Description), f.r.String(st.TargetURL)
	return f.Forge.SetStatus(ctx, repo, sha, st)
}

func (f redacted) CreateIssue(ctx context.Context, repo string, is NewIssue) (Issue, error) {
	is.Title, is.Body = f.r.String(is.Title), f.r.String(is.Body)
	return f.Forge.CreateIssue(ctx, repo, is)
}

func (f redacted) UpdateIssue(ctx context.Context, repo string, number int64, title, body string) (Issue, error) {
	return f.Forge.UpdateIssue(ctx, repo, number, f.r.String(title), f.r.String(body))
}

func (f redacted) Merge(ctx context.Context, repo string, number int64, opts MergeOptions) (MergeRequest, error) {
	opts.Message = f.r.String(opts.Message)
	return f.Forge.Merge(ctx, repo, number, opts)
}
