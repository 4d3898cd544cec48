package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/fakegitlab"
	"github.com/strata-iac/strata/planner/tf"
)

// needSandbox skips a test that needs terraform's sandbox where none can
// be made, and fails it under CI=true.
func needSandbox(t *testing.T) {
	t.Helper()
	needTerraform(t)
	if _, err := tf.NewSandbox(context.Background(), tf.SandboxRequired); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
}

// startServerEnv is startServer with more variables in the server's
// environment.
func startServerEnv(t *testing.T, gl *fakegitlab.Server, dataDir string, env []string, args ...string) *e2eServer {
	t.Helper()
	s := &e2eServer{t: t, gl: gl,
		args: append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
			"--gitlab-url", gl.URL, "--repo-allowlist", "gitlab/acme/**", "--allow-file-remotes",
			"--log-format", "json", "--replica", "e2e"}, args...),
		env: append([]string{"STRATA_GITLAB_TOKEN=" + gl.Token, "STRATA_GITLAB_WEBHOOK_SECRET=" + webhookSecret,
			"XDG_CACHE_HOME=" + filepath.Join(dataDir, "cache")}, env...),
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *e2eServer) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// branchExec is remote.branch with some of the files executable in git.
func (r *remote) branchExec(name string, files map[string]string, executable ...string) string {
	r.t.Helper()
	r.work.Git("checkout", "-q", "-b", name, "main")
	r.work.Write(files)
	for _, p := range executable {
		if err := os.Chmod(filepath.Join(r.work.Dir, filepath.FromSlash(p)), 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
	sha := r.work.Commit("change " + name)
	r.work.Git("push", "-q", "-f", "origin", name)
	r.work.Git("checkout", "-q", "main")
	return sha
}

// leaks lists where the secrets (name → value) appear: in texts (name →
// text) and in every file under dir except plan files, which are
// Terraform's binary record of the plan, kept byte for byte for the apply
// (README.md, Security).
func leaks(t *testing.T, secrets, texts map[string]string, dir string) []string {
	t.Helper()
	var out []string
	check := func(where string, data []byte) {
		for name, v := range secrets {
			if strings.Contains(string(data), v) {
				out = append(out, fmt.Sprintf("%s holds %s", where, name))
			}
		}
	}
	for where, text := range texts {
		check(where, []byte(text))
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(p, ".tfplan") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		check(p, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// forgeTexts is everything strata wrote on GitLab about a merge request,
// and the server's log.
func forgeTexts(srv *e2eServer, project string, iid int64, sha string) map[string]string {
	texts := map[string]string{"the server log": srv.log()}
	for _, n := range srv.gl.Notes(project, iid) {
		texts[fmt.Sprintf("note %d", n.ID)] = n.Body
	}
	for i, st := range srv.gl.Statuses(project, sha) {
		texts[fmt.Sprintf("status %d", i)] = st.Description + " " + st.TargetURL
	}
	return texts
}

// attackStack is a merge request's stack whose plan reads what it can of
// strata: the server's environment (by its PID), every environment in
// /proc, strata's data dir and /proc entry, and (legitimately) a secret of
// its own environment, printed whole and split over lines.
func attackStack(dataDir string, pid int, secretFile string) string {
	return fmt.Sprintf(`locals {
  data = %q
  pid  = "%d"
  file = %q
  self = file("/proc/self/environ")
  tok  = regex("DEPLOY_TOKEN=([^\\x00]*)", local.self)[0]
}

output "parent_environ" {
  value = try(file("/proc/${local.pid}/environ"), "unreadable")
}

output "environs" {
  value = { for p in fileset("/proc", "*/environ") : p => try(file("/proc/${p}"), "unreadable") }
}

output "probes" {
  value = {
    secret_file = fileexists(local.file)
    locks       = fileexists("${local.data}/locks.db")
    queue       = fileexists("${local.data}/queue.db")
    strata_proc = fileexists("/proc/${local.pid}/status")
    store       = length(fileset(local.data, "store/**"))
    mirrors     = length(fileset(local.data, "mirrors/**"))
  }
}

output "split_token" {
  value = join("\n", [for c in chunklist(split("", local.tok), 7) : join("", c)])
}
`, dataDir, pid, secretFile)
}

// planOutputs reads the outputs of the stored plan.json of a stack.
func planOutputs(t *testing.T, storeDir, stack string) map[string]any {
	t.Helper()
	var found string
	filepath.WalkDir(storeDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(filepath.ToSlash(p), stack+"/plan.json") {
			found = p
		}
		return nil
	})
	data, err := os.ReadFile(found)
	if err != nil {
		t.Fatalf("no plan.json of %s in the store: %v", stack, err)
	}
	var plan struct {
		PlannedValues struct {
			Outputs map[string]struct{ Value any } `json:"outputs"`
		} `json:"planned_values"`
	}
	if err := json.Unmarshal(data, &plan); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range plan.PlannedValues.Outputs {
		out[k] = v.Value
	}
	return out
}

const deployToken = "deploy-0123456789-abcdefghij-XYZ"

// TestServerSandboxKeepsPlanCodeFromStrata plays the first two attacks of
// DESIGN §11 through strata server with its default --sandbox required: a
// merge request whose plan reads the server's environment by its PID and
// every environment in /proc, and probes strata's data dir, a secret file
// and strata's /proc entry. The probes see nothing; no secret strata holds (the GitLab token,
// the webhook secret) nor the secret given to the plan's terraform appears
// in a note, a status, the log or any file of the data dir, even split
// over lines; and the server's own /proc environ holds no secret.
func TestServerSandboxKeepsPlanCodeFromStrata(t *testing.T) {
	needSandbox(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	os.WriteFile(secretFile, []byte(webhookSecret), 0o600)
	srv := startServerEnv(t, gl, data, []string{"STRATA_PLAN_ENV_DEPLOY_TOKEN=" + deployToken}, "--gitlab-webhook-secret-file", secretFile)
	if !strings.Contains(srv.log(), `"sandbox":true`) {
		t.Fatalf("the server does not sandbox terraform by default:\n%s", srv.log())
	}
	sha := rem.branch("attack", map[string]string{"live/attack/main.tf": attackStack(data, srv.pid(), secretFile)})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "attack", SHA: sha, Author: "mallory"})
	if code := srv.deliver(gl.MergeRequestHook(repo, 1, "open", "mallory")); code != http.StatusAccepted {
		t.Fatalf("open: HTTP %d", code)
	}
	srv.eventually("the attack's plan", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "success") && noteContains(gl, repo, 1, "`live/attack`")
	})

	out := planOutputs(t, filepath.Join(data, "store"), "live/attack")
	if out["parent_environ"] != "unreadable" {
		t.Errorf("plan-time code read the server's /proc environ: %.200v", out["parent_environ"])
	}
	probes, _ := json.Marshal(out["probes"])
	if string(probes) != `{"locks":false,"mirrors":0,"queue":false,"secret_file":false,"store":0,"strata_proc":false}` {
		t.Errorf("plan-time code sees strata: %s", probes)
	}
	if environs, _ := json.Marshal(out["environs"]); strings.Contains(string(environs), "STRATA_") {
		t.Errorf("an environment in the sandbox holds STRATA_ variables: %.500s", environs)
	}
	if split := fmt.Sprint(out["split_token"]); !strings.Contains(split, "[redacted]") {
		t.Errorf("the token split over lines is not masked in plan.json: %q", split)
	}
	note, _ := mainNote(gl, repo, 1)
	if !strings.Contains(note.Body, "[redacted]") {
		t.Errorf("the note shows no masked secret:\n%s", note.Body)
	}
	secrets := map[string]string{"the GitLab token": gl.Token, "the webhook secret": webhookSecret, "the plan's deploy token": deployToken}
	texts := forgeTexts(srv, repo, 1, sha)
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(srv.pid()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	texts["the server's /proc/<pid>/environ"] = string(environ)
	for _, l := range leaks(t, secrets, texts, data) {
		t.Error(l)
	}
}

// TestServerWithoutSandboxHidesItsEnvironment runs the first attack with
// --sandbox off: the plan does read the server's /proc environ, and finds
// no secret in it, since the server moved its secrets out at start-up.
func TestServerWithoutSandboxHidesItsEnvironment(t *testing.T) {
	needTerraform(t)
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServerEnv(t, gl, data, []string{"STRATA_PLAN_ENV_DEPLOY_TOKEN=" + deployToken}, "--sandbox", "off")
	sha := rem.branch("attack", map[string]string{"live/attack/main.tf": attackStack(data, srv.pid(), "/nonexistent")})
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "attack", SHA: sha, Author: "mallory"})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "mallory"))
	srv.eventually("the attack's plan", func() bool {
		return statusIs(gl, repo, sha, "strata/plan", "success") && noteContains(gl, repo, 1, "`live/attack`")
	})
	out := planOutputs(t, filepath.Join(data, "store"), "live/attack")
	if parent := fmt.Sprint(out["parent_environ"]); parent == "unreadable" || !strings.Contains(parent, "STRATA_INTERNAL_SECRETS_FD=") {
		t.Fatalf("unsandboxed, the plan should read the server's environment (which proves the attack reaches it): %.300s", parent)
	}
	secrets := map[string]string{"the GitLab token": gl.Token, "the webhook secret": webhookSecret, "the plan's deploy token": deployToken}
	for _, l := range leaks(t, secrets, forgeTexts(srv, repo, 1, sha), data) {
		t.Error(l)
	}
}

// TestServerNeverUsesAnImpliedMirror plays the third attack: a merge
// request commits an executable "provider" under terraform.d/plugins in
// its stack, which terraform would use as an implied local mirror and run
// during the plan. strata's explicit provider_installation makes terraform
// look for the provider in its registry instead, so the plan fails
// without running it. A bare terraform init and plan of the same stack,
// for comparison, does run it.
func TestServerNeverUsesAnImpliedMirror(t *testing.T) {
	needSandbox(t)
	const evil = "#!/bin/sh\necho \"EVIL-PROVIDER-RAN;$(env | tr '\\n' ';')\"\nexit 1\n"
	const plugin = "live/evil/terraform.d/plugins/registry.terraform.io/acme/evil/1.0.0/" + runtime.GOOS + "_" + runtime.GOARCH + "/terraform-provider-evil"
	files := map[string]string{
		"live/evil/main.tf": "terraform {\n  required_providers {\n    evil = { source = \"acme/evil\", version = \"1.0.0\" }\n  }\n}\n\nresource \"evil_thing\" \"x\" {}\n",
		plugin:              evil,
	}

	bare := t.TempDir()
	for p, content := range files {
		full := filepath.Join(bare, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(content), 0o755)
	}
	stack := filepath.Join(bare, "live", "evil")
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(bare, "none.tfrc"), "TF_IN_AUTOMATION=1")
	if out, err := terraformIn(stack, env, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("bare terraform init from the implied mirror: %v\n%s", err, out)
	}
	if out, _ := terraformIn(stack, env, "plan", "-input=false", "-no-color"); !strings.Contains(out, "EVIL-PROVIDER-RAN") {
		t.Fatalf("a bare terraform plan does not run the committed provider, so this test proves nothing:\n%s", out)
	}

	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	rem := newRemote(t, nil)
	const repo = "acme/infra"
	gl.AddProject(fakegitlab.Project{Path: repo, CloneURL: rem.url()})
	data := t.TempDir()
	srv := startServer(t, gl, data)
	sha := rem.branchExec("evil", files, plugin)
	if mode := rem.work.Git("ls-tree", "evil", "--", plugin); !strings.HasPrefix(mode, "100755") {
		t.Fatalf("the provider is not executable in git: %s", mode)
	}
	gl.AddMergeRequest(repo, fakegitlab.MergeRequest{IID: 1, SourceBranch: "evil", SHA: sha, Author: "mallory"})
	srv.deliver(gl.MergeRequestHook(repo, 1, "open", "mallory"))
	srv.eventually("the failed plan", func() bool { return statusIs(gl, repo, sha, "strata/plan", "failed") })
	note, _ := mainNote(gl, repo, 1)
	if strings.Contains(note.Body, "EVIL-PROVIDER-RAN") || strings.Contains(srv.log(), "EVIL-PROVIDER-RAN") {
		t.Fatalf("the committed provider ran:\n%s", note.Body)
	}
	if !strings.Contains(note.Body, "registry.terraform.io") {
		t.Errorf("the plan did not fail looking for acme/evil in its registry:\n%s", note.Body)
	}
	secrets := map[string]string{"the GitLab token": gl.Token, "the webhook secret": webhookSecret}
	for _, l := range leaks(t, secrets, forgeTexts(srv, repo, 1, sha), data) {
		t.Error(l)
	}
}

// TestServerRefusesToStartWithoutSandbox starts strata server where
// bubblewrap is not on PATH: with the default --sandbox required it exits
// at once with one line saying what to do; with auto it starts and warns.
// strata plan, whose default is auto, plans and says on stderr that
// terraform runs unsandboxed.
func TestServerRefusesToStartWithoutSandbox(t *testing.T) {
	needTerraform(t)
	tfPath, _ := exec.LookPath("terraform")
	bin := t.TempDir()
	if err := os.Symlink(tfPath, filepath.Join(bin, "terraform")); err != nil {
		t.Fatal(err)
	}
	gl := fakegitlab.New()
	t.Cleanup(gl.Close)
	env := []string{"PATH=" + bin, "STRATA_GITLAB_TOKEN=" + gl.Token, "STRATA_GITLAB_WEBHOOK_SECRET=" + webhookSecret}
	r := runStrata(t, env, "server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--gitlab-url", gl.URL)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "install it (apt-get install bubblewrap") || !strings.Contains(lines[0], "--sandbox off") {
		t.Fatalf("strata server without bwrap: exit %d, stderr:\n%s\nwant exit 1 and one line saying how to fix it", r.code, r.stderr)
	}

	srv := startServerEnv(t, gl, t.TempDir(), []string{"PATH=" + bin}, "--sandbox", "auto")
	if !strings.Contains(srv.log(), `"msg":"terraform runs unsandboxed"`) || !strings.Contains(srv.log(), `"sandbox":false`) {
		t.Errorf("--sandbox auto without bwrap does not say terraform runs unsandboxed:\n%s", srv.log())
	}

	g, genv := monorepo(t)
	r = runStrata(t, append(genv, "PATH="+bin), "plan", "--repo", g.Dir, "--stack", "live/prod/network")
	if r.code != 2 || !strings.Contains(r.stderr, "strata: warning: cannot sandbox terraform: bubblewrap (bwrap) is not installed") {
		t.Errorf("strata plan without bwrap: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
