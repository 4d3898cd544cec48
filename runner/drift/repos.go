package drift

import (
	"context"
	"encoding/json"
	"path"
	"sort"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/records"
	"github.com/strata-iac/strata/runner/workspace"
)

// repoRecord is a repository strata has had a webhook from: what a drift
// scan needs to fetch it. The server learns repositories only from
// webhooks, so it keeps them in the store (records.RepoKey), where every
// replica finds them.
type repoRecord struct {
	Forge         string    `json:"forge"`
	Repo          string    `json:"repo"`
	ProjectID     int64     `json:"project_id,omitempty"`
	CloneURL      string    `json:"clone_url"`
	DefaultBranch string    `json:"default_branch,omitempty"`
	SeenAt        time.Time `json:"seen_at"`
}

func (r repoRecord) ref() forge.RepoRef { return forge.RepoRef{Forge: r.Forge, Path: r.Repo} }

func (r repoRecord) source() workspace.Repo {
	return workspace.Repo{RepoRef: r.ref(), CloneURL: r.CloneURL}
}

// Remember records the repository of an accepted event. Each process
// writes a repository once, and again only when its clone URL or default
// branch changes, so webhooks stay fast. A failure is logged: the next
// event tries again.
func (d *Scheduler) Remember(ctx context.Context, ev forge.Event) {
	rec := repoRecord{Forge: ev.Forge, Repo: ev.Repo, ProjectID: ev.ProjectID, CloneURL: ev.CloneURL, DefaultBranch: ev.DefaultBranch}
	if rec.Repo == "" || rec.CloneURL == "" {
		return
	}
	key := rec.ref().String()
	d.mu.Lock()
	was, known := d.repos[key]
	d.mu.Unlock()
	if known && was.CloneURL == rec.CloneURL && was.DefaultBranch == rec.DefaultBranch && was.ProjectID == rec.ProjectID {
		return
	}
	rec.SeenAt = time.Now().UTC()
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := d.cfg.Store.Put(ctx, records.RepoKey(rec.ref()), data); err != nil {
		d.log.Error("drift: cannot record the repository", "repo", key, "err", err)
		return
	}
	d.mu.Lock()
	d.repos[key] = rec
	d.mu.Unlock()
	if !known {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// listRepos returns the repositories of the forges served that
// --repo-allowlist admits.
func (d *Scheduler) listRepos(ctx context.Context) ([]repoRecord, error) {
	names := make([]string, 0, len(d.cfg.Forges))
	for name := range d.cfg.Forges {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []repoRecord
	for _, name := range names {
		keys, err := d.cfg.Store.List(ctx, records.ReposOf(name))
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if path.Ext(k) != ".json" {
				continue
			}
			data, err := d.cfg.Store.Get(ctx, k)
			if err != nil {
				d.log.Warn("drift: cannot read a recorded repository", "key", k, "err", err)
				continue
			}
			var rec repoRecord
			if err := json.Unmarshal(data, &rec); err != nil || records.RepoKey(rec.ref()) != k {
				d.log.Warn("drift: ignoring a malformed repository record", "key", k, "err", err)
				continue
			}
			if d.cfg.Allowed(rec.ref()) {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}
