package test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/fakegitlab"
)

// terraformIn runs terraform with args in dir and returns what it printed.
func terraformIn(dir string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// spyProvider builds testdata/spy as provider acme/spy 1.0.0 into a
// filesystem mirror and returns the mirror's directory and the binary.
func spyProvider(t *testing.T, dataDir string, strataPID int, secrets ...string) (mirror, bin string) {
	t.Helper()
	mirror = t.TempDir()
	dir := filepath.Join(mirror, "registry.terraform.io", "acme", "spy", "1.0.0", runtime.GOOS+"_"+runtime.GOARCH)
	os.MkdirAll(dir, 0o755)
	bin = filepath.Join(dir, "terraform-provider-spy_v1.0.0")
	var needles []string
	for _, s := range secrets {
		needles = append(needles, hex.EncodeToString([]byte(s)))
	}
	ldflags := fmt.Sprintf("-X main.dataDir=%s -X main.strataPID=%d -X main.needles=%s", dataDir, strataPID, strings.Join(needles, ","))
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "./testdata/spy")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the spy provider: %v\n%s", err, out)
	}
	return mirror, bin
}

// operatorCLIConfig writes an operator's terraform CLI config holding
// content and returns its path.
func operatorCLIConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "operator.tfrc")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var spyReport = regexp.MustCompile(`SPY;\S+`)

// TestServerOperatorMirrorProviderSeesNothing installs a provider the test
// builds through the operator's filesystem_mirror (TF_CLI_CONFIG_FILE of
// the server) and plans a stack that uses it: the provider runs in the
// sandbox and reports what it found of strata. It sees no STRATA_
// variable nor secret in any environment it can read, not the server's
// /proc entry, and of the data dir only the directories of its own run.
// Run directly, the same binary does see strata, which shows it looks.
func TestServerOperatorMirrorProviderSeesNothing(t *testing.T) {
	needSandbox(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	tfrc := filepath.Join(t.TempDir(), "operator.tfrc")
	os.WriteFile(tfrc, nil, 0o600)
	srv := startServerEnv(t, gl, data, []string{"TF_CLI_CONFIG_FILE=" + tfrc})
	mirror, bin := spyProvider(t, data, srv.pid(), gl.Token, webhookSecret)
	os.WriteFile(tfrc, []byte(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/acme/*"]
  }
  direct {
    exclude = ["registry.terraform.io/acme/*"]
  }
}
`, mirror)), 0o600)

	direct, _ := exec.Command(bin).Output()
	if !bytes.Contains(direct, []byte("strata_proc=true")) {
		t.Fatalf("run outside the sandbox the spy does not see the server, so it proves nothing: %s", direct)
	}

	sha := rem.branch("spy", map[string]string{
		"live/spy/main.tf": "terraform {\n  required_providers {\n    spy = { source = \"acme/spy\", version = \"1.0.0\" }\n  }\n}\n\nresource \"spy_thing\" \"x\" {}\n",
	})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "spy", SHA: sha, Author: "mallory"})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "mallory"))
	srv.eventually("the spy's report", func() bool { return noteContains(gl, repo, 1, "SPY;") })
	note, _ := mainNote(gl, repo, 1)
	report := spyReport.FindString(note.Body)
	fields := map[string]string{}
	for _, kv := range strings.Split(report, ";")[1:] {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	if fields["environs"] == "" || fields["environs"] == "0" {
		t.Fatalf("the spy read no environment at all: %s", report)
	}
	want := map[string]string{"strata_vars": "", "secrets": "0", "strata_proc": "false", "locks": "false"}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("the spy reports %s=%s, want %s (%s)", k, fields[k], v, report)
		}
	}
	for _, name := range strings.Split(fields["data"], ",") {
		if name != "work" && name != "state" && name != "cache" {
			t.Errorf("the spy sees %s in strata's data dir (%s)", name, report)
		}
	}
	if pids := strings.Split(fields["pids"], ","); len(pids) > 4 {
		t.Errorf("the spy sees %d processes, more than its run's own: %s", len(pids), report)
	}
	secrets := map[string]string{"the GitLab token": gl.Token, "the webhook secret": webhookSecret}
	for _, l := range leaks(t, secrets, forgeTexts(srv, repo, 1, sha), data) {
		t.Error(l)
	}
}

// TestPlanUsesTheOperatorsNetworkMirror plans a stack that needs a
// provider with an operator's CLI config naming a network mirror that does
// not answer: the plan fails with the mirror's address in the error, where
// without that config terraform asks its registry.
func TestPlanUsesTheOperatorsNetworkMirror(t *testing.T) {
	g, env := monorepo(t)
	g.Write(map[string]string{"live/null/main.tf": "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\" }\n  }\n}\n"})
	g.Commit("a stack with a provider")
	const mirror = "https://127.0.0.1:1/terraform-mirror/"
	tfrc := operatorCLIConfig(t, "provider_installation {\n  network_mirror {\n    url = \""+mirror+"\"\n  }\n}\n")

	r := runStrata(t, append(env, "TF_CLI_CONFIG_FILE="+tfrc), "plan", "--repo", g.Dir, "--stack", "live/null", "--format", "json")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "127.0.0.1:1/terraform-mirror") {
		t.Fatalf("with a network mirror: exit %d, want 1 and an error naming the mirror\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, append(env, "TF_CLI_CONFIG_FILE="+filepath.Join(t.TempDir(), "missing.tfrc")), "plan", "--repo", g.Dir, "--stack", "live/null", "--format", "json")
	if r.code != 1 || strings.Contains(r.stdout+r.stderr, "terraform-mirror") || !strings.Contains(r.stdout+r.stderr, "registry.terraform.io") {
		t.Fatalf("without it: exit %d, want 1 and an error naming the registry\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
