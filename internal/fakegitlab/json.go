package fakegitlab

import (
	"fmt"
	"slices"
)

// The renderers below produce GitLab's REST API v4 shapes (the fields
// client-go reads, and the common ones around them).

func (s *Server) userJSON(username string) map[string]any {
	u := s.user(username)
	return map[string]any{
		"id": u.ID, "username": u.Username, "name": u.Username, "state": u.State,
		"locked": false, "avatar_url": nil, "web_url": s.URL + "/" + u.Username,
	}
}

func (s *Server) mrJSON(p *project, mr *MergeRequest) map[string]any {
	source := mr.SourceProjectID
	if source == 0 {
		source = p.ID
	}
	var mergeSHA any
	if mr.MergeCommitSHA != "" {
		mergeSHA = mr.MergeCommitSHA
	}
	labels := slices.Clone(mr.Labels)
	if labels == nil {
		labels = []string{}
	}
	ref := fmt.Sprintf("!%d", mr.IID)
	return map[string]any{
		"id": mr.ID, "iid": mr.IID, "project_id": p.ID,
		"title": mr.Title, "description": "", "state": mr.State,
		"created_at": gitlabTime(s.clock), "updated_at": gitlabTime(s.clock),
		"target_branch": mr.TargetBranch, "source_branch": mr.SourceBranch,
		"source_project_id": source, "target_project_id": p.ID,
		"author": s.userJSON(mr.Author),
		"draft":  mr.Draft, "work_in_progress": mr.Draft,
		"merge_status":                  legacyMergeStatus(mr),
		"detailed_merge_status":         detailedStatus(mr),
		"has_conflicts":                 mr.HasConflicts,
		"blocking_discussions_resolved": true,
		"sha":                           mr.SHA,
		"merge_commit_sha":              mergeSHA,
		"squash_commit_sha":             nil,
		"squash":                        false,
		"labels":                        labels,
		"user_notes_count":              len(p.notes[mr.IID]),
		"web_url":                       fmt.Sprintf("%s/%s/-/merge_requests/%d", s.URL, p.Path, mr.IID),
		"references":                    map[string]any{"short": ref, "relative": ref, "full": p.Path + ref},
		"diff_refs":                     map[string]any{"head_sha": mr.SHA},
	}
}

func (s *Server) noteJSON(p *project, mr *MergeRequest, n *Note) map[string]any {
	return map[string]any{
		"id": n.ID, "type": nil, "body": n.Body, "attachment": nil,
		"author":     s.userJSON(n.Author),
		"created_at": gitlabTime(n.CreatedAt), "updated_at": gitlabTime(n.UpdatedAt),
		"system": n.System, "noteable_id": mr.ID, "noteable_type": "MergeRequest",
		"project_id": p.ID, "noteable_iid": mr.IID,
		"resolvable": false, "confidential": false, "internal": false,
	}
}

func (s *Server) statusJSON(st *Status) map[string]any {
	var finished any
	if st.State != "pending" && st.State != "running" {
		finished = gitlabTime(s.clock)
	}
	return map[string]any{
		"id": st.ID, "sha": st.SHA, "ref": nil, "status": st.State, "name": st.Name,
		"description": st.Description, "target_url": st.TargetURL,
		"created_at": gitlabTime(st.CreatedAt), "started_at": nil, "finished_at": finished,
		"allow_failure": false, "coverage": nil, "pipeline_id": nil,
		"author": s.userJSON(st.Author),
	}
}

func (s *Server) issueJSON(p *project, is *Issue) map[string]any {
	labels := slices.Clone(is.Labels)
	if labels == nil {
		labels = []string{}
	}
	var closed any
	if is.State == "closed" {
		closed = gitlabTime(s.clock)
	}
	return map[string]any{
		"id": is.ID, "iid": is.IID, "project_id": p.ID,
		"title": is.Title, "description": is.Description, "state": is.State,
		"labels": labels, "author": s.userJSON(is.Author), "assignees": []any{},
		"created_at": gitlabTime(is.CreatedAt), "updated_at": gitlabTime(s.clock), "closed_at": closed,
		"confidential": false, "issue_type": "issue", "type": "ISSUE",
		"web_url": fmt.Sprintf("%s/%s/-/issues/%d", s.URL, p.Path, is.IID),
	}
}
