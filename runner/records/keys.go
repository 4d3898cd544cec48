package records

import (
	"fmt"
	"path"
	"strings"

	"github.com/strata-iac/strata/runner/forge"
)

// The prefixes of the store's key layout (see the package doc).
const (
	mrPrefix     = "mr"
	runsPrefix   = "runs"
	activePrefix = "runs/active/"
	driftPrefix  = "drift"
	// ReposPrefix holds one record per known repository, under
	// ReposPrefix + "<forge>/<repo>.json".
	ReposPrefix = "repos/"
)

func repoPath(prefix string, r forge.RepoRef) string { return path.Join(prefix, r.Forge, r.Path) }

// MRPrefix is where a merge request's state and plans live.
func MRPrefix(mr forge.MRRef) string {
	return path.Join(repoPath(mrPrefix, mr.RepoRef), fmt.Sprint(mr.Number))
}

// MRStateKey is a merge request's saved state.
func MRStateKey(mr forge.MRRef) string { return MRPrefix(mr) + "/state.json" }

// MRPlansPrefix is the --out layout of a merge request's plans at commit
// sha.
func MRPlansPrefix(mr forge.MRRef, sha string) string { return MRPrefix(mr) + "/plans/" + sha }

// MRAppliedKey holds what the applies of a merge request's plans at sha
// did (their summary), for the note of a later event that finds them
// applied.
func MRAppliedKey(mr forge.MRRef, sha string) string {
	return MRPrefix(mr) + "/applied/" + sha + ".json"
}

// RunKey is the record of a finished run.
func RunKey(repo forge.RepoRef, id string) string {
	return path.Join(repoPath(runsPrefix, repo), id+".json")
}

// ActiveRunKey is the record of a run in progress.
func ActiveRunKey(id string) string { return activePrefix + id + ".json" }

// LogKey is the log of a finished run, next to its record.
func LogKey(repo forge.RepoRef, id string) string {
	return path.Join(repoPath(runsPrefix, repo), id+".log")
}

// ActiveLogKey is the log of a run in progress, as far as it got.
func ActiveLogKey(id string) string { return activePrefix + id + ".log" }

// IsRecordKey reports whether key, listed under a runs prefix, is a run
// record (not a run's log).
func IsRecordKey(key string) bool { return strings.HasSuffix(key, ".json") }

// DriftStateKey is the last drift scan's verdicts of a repository.
func DriftStateKey(repo forge.RepoRef) string { return repoPath(driftPrefix, repo) + "/state.json" }

// DriftScanPrefix is the --out layout of one drift scan.
func DriftScanPrefix(repo forge.RepoRef, run string) string {
	return repoPath(driftPrefix, repo) + "/scans/" + run
}

// RepoKey is the record of a repository strata knows.
func RepoKey(repo forge.RepoRef) string { return ReposPrefix + repo.String() + ".json" }

// ReposOf is the prefix of the repository records of one forge.
func ReposOf(forgeName string) string { return ReposPrefix + forgeName + "/" }

// RunPage is the path, under the server's web page (package runner/ui),
// of the page of run id of repo; the stack's section is at the fragment
// StackAnchor gives.
func RunPage(repo forge.RepoRef, id string) string {
	return "/ui/runs/" + repo.Forge + "/" + repo.Path + "/" + id
}

// StackAnchor is the fragment of a stack instance's section of a run page.
func StackAnchor(dir, workspace string) string {
	if workspace != "" && workspace != "default" {
		dir += "@" + workspace
	}
	return "stack-" + dir
}

// AuditKey is the audit record of one action taken by hand on the web
// page (a force-unlock), under audit/, sortable by time.
func AuditKey(id string) string { return "audit/" + id + ".json" }
