package ci

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/strata-iac/strata/planner"
)

// GitLabReport is GitLab's Terraform report (artifacts:reports:terraform):
// the three counts its merge request widget shows. GitLab keys reports by
// job, so one job's report sums its stacks; a replace counts as one create
// and one delete, as GitLab's own recipe (jq over terraform show -json)
// counts it.
type GitLabReport struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// NewGitLabReport sums the planned stacks of sum.
func NewGitLabReport(sum planner.Summary) GitLabReport {
	var r GitLabReport
	for _, res := range sum.Stacks {
		c := res.Counts
		r.Create += c.Create + c.Replace
		r.Update += c.Update
		r.Delete += c.Delete + c.Replace
	}
	return r
}

// WriteGitLabReport writes sum's report to path.
func WriteGitLabReport(path string, sum planner.Summary) error {
	data, err := json.Marshal(NewGitLabReport(sum))
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the GitLab report: %w", err)
	}
	return nil
}
