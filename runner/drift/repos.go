package runner

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"time"

	"github.com/strata-iac/strata/runner/forge"
)

// repoRecord is a repository strata has had a webhook from: what a drift
// scan needs to fetch it. The server learns repositories only from
// webhooks, so it keeps them in the store (repos/<forge>/<repo>.json),
// where every replica finds them.
type repoRecord struct {
	Forge         string    `json:"forge"`
	Repo          string    `json:"repo"`
	ProjectID     int64     `json:"project_id,omitempty"`
	CloneURL      string    `json:"clone_url"`
	DefaultBranch string    `json:"default_branch,omitempty"`
	SeenAt        time.Time `json:"seen_at"`
}

// key is "forge/repo", as --repo-allowlist globs and metrics name it.
func (r repoRecord) key() string { return r.Forge + "/" + r.Repo }

const reposPrefix = "repos/"

// rememberRepo records the repository of an accepted event. Each process
// writes a repository once, and again only when its clone URL or default
// branch changes, so webhooks stay fast. A failure is logged: the next
// event tries again.
func (s *Server) rememberRepo(ctx context.Context, ev forge.Event) {
	rec := repoRecord{Forge: ev.Forge, Repo: ev.Repo, ProjectID: ev.ProjectID, CloneURL: ev.CloneURL, DefaultBranch: ev.DefaultBranch}
	if rec.Repo == "" || rec.CloneURL == "" {
		return
	}
	d := s.drift
	d.mu.Lock()
	was, known := d.repos[rec.key()]
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
	if _, err := s.cfg.Store.Put(ctx, reposPrefix+rec.key()+".json", data); err != nil {
		s.log.Error("drift: cannot record the repository", "repo", rec.key(), "err", err)
		return
	}
	d.mu.Lock()
	d.repos[rec.key()] = rec
	d.mu.Unlock()
	if !known {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// listRepos returns the repositories of the server's forge that
// --repo-allowlist admits.
func (s *Server) listRepos(ctx context.Context) ([]repoRecord, error) {
	keys, err := s.cfg.Store.List(ctx, reposPrefix+s.cfg.Forge.Name()+"/")
	if err != nil {
		return nil, err
	}
	var out []repoRecord
	for _, k := range keys {
		if path.Ext(k) != ".json" {
			continue
		}
		data, err := s.cfg.Store.Get(ctx, k)
		if err != nil {
			s.log.Warn("drift: cannot read a recorded repository", "key", k, "err", err)
			continue
		}
		var rec repoRecord
		if err := json.Unmarshal(data, &rec); err != nil || rec.key() != strings.TrimSuffix(strings.TrimPrefix(k, reposPrefix), ".json") {
			s.log.Warn("drift: ignoring a malformed repository record", "key", k, "err", err)
			continue
		}
		if s.allowed(rec.key()) {
			out = append(out, rec)
		}
	}
	return out, nil
}
