package test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ciRunner is what a CI runner gives a job: a fresh clone and a clean
// environment holding only the CI system's variables (and those a job
// needs from the machine: PATH for git and terraform, AWS_* for moto).
type ciRunner struct {
	t      testing.TB
	remote string // file:// URL of the bare repository
}

// clone makes a fresh clone of the remote at sha, as a runner fetches:
// depth 0 fetches the commit's whole history, else that many commits;
// branches also fetches every branch (actions/checkout with
// fetch-depth: 0). Only sha is checked out.
func (r ciRunner) clone(sha string, depth int, branches bool) string {
	r.t.Helper()
	dir := filepath.Join(r.t.TempDir(), "checkout")
	git := func(args ...string) {
		r.t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	git("init", "-q")
	git("remote", "add", "origin", r.remote)
	fetch := []string{"fetch", "-q", "origin"}
	if depth > 0 {
		fetch = append(fetch, "--depth", strconv.Itoa(depth))
	}
	if branches {
		fetch = append(fetch, "+refs/heads/*:refs/remotes/origin/*")
	}
	git(append(fetch, sha)...)
	git("checkout", "-q", "--detach", sha)
	return dir
}

// env is the clean environment of a job on this machine, plus vars.
func (r ciRunner) env(vars map[string]string) map[string]string {
	home := r.t.TempDir()
	env := map[string]string{
		"PATH": filepath.Dir(strataBin()) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME": home, "XDG_DATA_HOME": filepath.Join(home, "data"), "XDG_CACHE_HOME": filepath.Join(home, "cache"),
		"CI": "true",
	}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			env[k] = v
		}
	}
	for k, v := range vars {
		env[k] = v
	}
	return env
}

// run runs a job's script with shell in dir, with exactly env.
func (r ciRunner) run(dir string, env map[string]string, shell []string, script string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell[0], append(shell[1:], script)...)
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	sort.Strings(cmd.Env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
		r.t.Fatalf("job script %q: %v (%v)\nstderr: %s", script, err, ctx.Err(), stderr.String())
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// gitlabCI is examples/ci/.gitlab-ci.yml: its global variables and jobs.
type gitlabCI struct {
	Variables map[string]string
	Jobs      map[string]gitlabJob
}

type gitlabJob struct {
	Script        []string          `yaml:"script"`
	Variables     map[string]string `yaml:"variables"`
	ResourceGroup string            `yaml:"resource_group"`
	Rules         []struct {
		If string `yaml:"if"`
	} `yaml:"rules"`
	Artifacts struct {
		Reports struct {
			Terraform string `yaml:"terraform"`
		} `yaml:"reports"`
	} `yaml:"artifacts"`
}

// gitlabKeywords are the top-level keys of a .gitlab-ci.yml that are no job.
var gitlabKeywords = map[string]bool{"variables": true, "workflow": true, "stages": true, "default": true, "include": true}

func loadGitLabCI(t testing.TB) gitlabCI {
	t.Helper()
	var doc map[string]yaml.Node
	readYAML(t, "../examples/ci/.gitlab-ci.yml", &doc)
	ci := gitlabCI{Jobs: map[string]gitlabJob{}}
	for key, node := range doc {
		var err error
		switch {
		case key == "variables":
			err = node.Decode(&ci.Variables)
		case !gitlabKeywords[key] && !strings.HasPrefix(key, "."):
			var j gitlabJob
			err = node.Decode(&j)
			ci.Jobs[key] = j
		}
		if err != nil {
			t.Fatalf(".gitlab-ci.yml %s: %v", key, err)
		}
	}
	return ci
}

// jobFor returns the one job whose script runs command.
func (c gitlabCI) jobFor(t testing.TB, command string) gitlabJob {
	t.Helper()
	var found []gitlabJob
	for _, j := range c.Jobs {
		if strings.Contains(strings.Join(j.Script, "\n"), command) {
			found = append(found, j)
		}
	}
	if len(found) != 1 {
		t.Fatalf(".gitlab-ci.yml: %d jobs run %q, want 1", len(found), command)
	}
	return found[0]
}

// runs reports whether the job's rules run it with env, evaluating the
// comparisons the example uses ($A == "x", $A == $B); a rule of another
// form fails the test, to be taught here.
func (j gitlabJob) runs(t testing.TB, env map[string]string) bool {
	t.Helper()
	cmp := regexp.MustCompile(`^\$(\w+) == (?:"([^"]*)"|\$(\w+))$`)
	for _, r := range j.Rules {
		m := cmp.FindStringSubmatch(strings.TrimSpace(r.If))
		if m == nil {
			t.Fatalf("rule %q: this test evaluates only $VAR == \"value\" and $VAR == $VAR", r.If)
		}
		want := m[2]
		if m[3] != "" {
			want = env[m[3]]
		}
		if env[m[1]] != "" && env[m[1]] == want {
			return true
		}
	}
	return len(j.Rules) == 0
}

// env is the job's environment: GitLab's predefined variables, then the
// file's, then the job's, then the project's CI/CD variables, as GitLab
// orders their precedence.
func (c gitlabCI) env(j gitlabJob, predefined, project map[string]string) map[string]string {
	env := map[string]string{}
	for _, m := range []map[string]string{predefined, c.Variables, j.Variables, project} {
		for k, v := range m {
			env[k] = v
		}
	}
	return env
}

// workflow is examples/ci/.github/workflows/strata.yml.
type workflow struct {
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]struct {
		If          string            `yaml:"if"`
		Env         map[string]string `yaml:"env"`
		Concurrency struct {
			Group            string `yaml:"group"`
			CancelInProgress bool   `yaml:"cancel-in-progress"`
		} `yaml:"concurrency"`
		Steps []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	ID   string            `yaml:"id"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func loadWorkflow(t *testing.T) workflow {
	t.Helper()
	var w workflow
	readYAML(t, "../examples/ci/.github/workflows/strata.yml", &w)
	return w
}

// expressions replaces every ${{ expr }} in s with its value in ctx; an
// expression ctx does not hold fails the test.
func expressions(t *testing.T, s string, ctx map[string]string) string {
	t.Helper()
	return regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`).ReplaceAllStringFunc(s, func(m string) string {
		expr := regexp.MustCompile(`^\$\{\{\s*|\s*\}\}$`).ReplaceAllString(m, "")
		v, ok := ctx[expr]
		if !ok {
			t.Fatalf("workflow expression %q: this test does not know its value", expr)
		}
		return v
	})
}

// runsOn reports whether a job's if: holds for event, evaluating the form
// the example uses (github.event_name == 'x').
func runsOn(t *testing.T, cond, event string) bool {
	t.Helper()
	m := regexp.MustCompile(`^github\.event_name == '([a-z_]+)'$`).FindStringSubmatch(strings.TrimSpace(cond))
	if m == nil {
		t.Fatalf("job if %q: this test evaluates only github.event_name == 'x'", cond)
	}
	return m[1] == event
}

func readYAML(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
