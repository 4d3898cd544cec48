package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// needTool finds a tool the test needs, skipping without it, except under
// CI=true, where a missing tool fails the test.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true): %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

// serverFlags are the flags `strata server` accepts, from its --help, so
// that nothing here passes a flag the binary does not know (a pod would
// crash-loop on it).
func serverFlags(t *testing.T) []string {
	t.Helper()
	flags, err := helpFlags()
	if err != nil {
		t.Fatal(err)
	}
	return flags
}

var helpFlags = sync.OnceValues(func() ([]string, error) {
	dir, err := os.MkdirTemp("", "strata-deploy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", bin, "./cmd/strata")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build strata: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "server", "--help").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("strata server --help: %v\n%s", err, out)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	if !slices.Contains(flags, "queue") {
		return nil, fmt.Errorf("no --queue among the flags of strata server --help: %q", flags)
	}
	return flags, nil
})

// flagsIn returns the --name of every --name=value or --name value in args.
func flagsIn(args []string) []string {
	var out []string
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			out = append(out, name)
		}
	}
	return out
}

// instruction is one line of a Dockerfile, continuations joined.
type instruction struct{ cmd, args string }

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if body, more := strings.CutSuffix(line, "\\"); more {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// TestDockerfile checks the image build by construction, as no container
// engine runs here: several stages; every base image and tool at a pinned
// version; terraform installed by hc-install, which verifies HashiCorp's
// signature and checksums; the runtime carrying git, bubblewrap and CA
// certificates and running as an unprivileged user; and a build context
// that holds every package strata is built from.
func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	args := map[string]string{}
	var stages [][]instruction
	for _, in := range ins {
		switch in.cmd {
		case "ARG":
			if k, v, ok := strings.Cut(in.args, "="); ok {
				args[k] = v
			}
		case "FROM":
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 3 {
		t.Fatalf("%d stages, want a build, a terraform and a runtime stage", len(stages))
	}
	expand := func(s string) string {
		return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(s, func(m string) string { return args[m[2:len(m)-1]] })
	}
	pinned := regexp.MustCompile(`^[\w./-]+:[\w.-]*\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$`)
	for _, st := range stages {
		image, _, _ := strings.Cut(expand(st[0].args), " ")
		if !pinned.MatchString(image) {
			t.Errorf("FROM %s: not a pinned version (name:MAJOR.MINOR…)", image)
		}
	}
	for _, a := range []string{"TERRAFORM_VERSION", "HC_INSTALL_VERSION"} {
		if !regexp.MustCompile(`^v?\d+\.\d+\.\d+$`).MatchString(args[a]) {
			t.Errorf("ARG %s=%q: want a pinned x.y.z", a, args[a])
		}
	}
	text, _ := os.ReadFile("Dockerfile")
	if !strings.Contains(string(text), `hc-install install -version "${TERRAFORM_VERSION}"`) ||
		!strings.Contains(string(text), `github.com/hashicorp/hc-install/cmd/hc-install@${HC_INSTALL_VERSION}`) {
		t.Error("terraform is not installed by the pinned hc-install")
	}
	if regexp.MustCompile(`curl[^\n]*\|\s*(ba)?sh|wget[^\n]*\|\s*(ba)?sh|:latest`).Match(text) {
		t.Error("the Dockerfile pipes a download into a shell or uses a :latest image")
	}

	final := stages[len(stages)-1]
	var user, entry string
	var installs, copies []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = expand(in.args)
		case "ENTRYPOINT":
			entry = in.args
		case "RUN":
			installs = append(installs, in.args)
		case "COPY":
			copies = append(copies, in.args)
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		t.Errorf("USER %q: the image must run as an unprivileged user", user)
	}
	for _, pkg := range []string{"bubblewrap", "git", "ca-certificates"} {
		if !regexp.MustCompile(`apt-get install[^&]*\b` + pkg + `\b`).MatchString(strings.Join(installs, "\n")) {
			t.Errorf("the runtime stage does not install %s", pkg)
		}
	}
	for _, bin := range []string{"/usr/local/bin/strata", "/usr/local/bin/terraform"} {
		if !slices.ContainsFunc(copies, func(c string) bool { return strings.HasPrefix(c, "--from=") && strings.HasSuffix(c, bin) }) {
			t.Errorf("the runtime stage does not copy %s from a build stage", bin)
		}
	}
	if entry != `["/usr/local/bin/strata"]` {
		t.Errorf("ENTRYPOINT %s", entry)
	}

	// The build context is the repository root, filtered by
	// Dockerfile.dockerignore: it must keep every package of the module
	// that strata is built from.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "../../cmd/strata").Output()
	if err != nil {
		t.Fatal(err)
	}
	kept := keptByDockerignore(t)
	root, _ := filepath.Abs("../..")
	for _, dir := range strings.Fields(string(out)) {
		rel, _ := filepath.Rel(root, dir)
		if !kept(filepath.ToSlash(rel) + "/x.go") {
			t.Errorf("Dockerfile.dockerignore leaves out %s, which strata is built from", rel)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if !kept(f) {
			t.Errorf("Dockerfile.dockerignore leaves out %s", f)
		}
	}
	for _, f := range []string{"examples/monorepo/strata.yaml", "runner/server_test.go", "internal/fakegitlab/testdata/push.json", ".git/config", "bin/strata"} {
		if kept(f) {
			t.Errorf("Dockerfile.dockerignore sends %s, which the build does not need", f)
		}
	}
}

// keptByDockerignore reads Dockerfile.dockerignore and reports whether a
// path of the build context is sent, as Docker matches: patterns in order,
// "!" re-including, "**" any number of directories, "*" and "?" within one,
// and a path excluded when it or a directory above it matches.
func keptByDockerignore(t *testing.T) func(string) bool {
	data, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	type rule struct {
		re  *regexp.Regexp
		neg bool
	}
	var rules []rule
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		p := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(l, "!")))
		var re strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		rules = append(rules, rule{regexp.MustCompile("^" + re.String() + "$"), neg})
	}
	return func(path string) bool {
		kept := true
		for _, r := range rules {
			for p := path; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
				if r.re.MatchString(p) {
					kept = r.neg
					break
				}
			}
		}
		return kept
	}
}

// TestSystemdUnit: the unit is hardened as far as the terraform sandbox
// allows, gets its secrets as credentials, passes only flags strata knows,
// and systemd accepts it.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("systemd/strata.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	settings := map[string][]string{}
	for _, l := range strings.Split(strings.ReplaceAll(unit, "\\\n", " "), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "", "DynamicUser": "yes", "RestrictSUIDSGID": "yes", "UMask": "0077",
	} {
		if got := settings[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"ProtectKernelTunables", "ProtectProc", "ProcSubset", "PrivateUsers"} {
		if _, ok := settings[k]; ok {
			t.Errorf("%s is set: with it the kernel refuses bubblewrap a new /proc", k)
		}
	}
	ns := strings.Fields(strings.Join(settings["RestrictNamespaces"], " "))
	for _, want := range []string{"user", "pid", "mnt", "ipc"} {
		if !slices.Contains(ns, want) {
			t.Errorf("RestrictNamespaces=%v refuses %s, which bubblewrap creates", ns, want)
		}
	}
	if creds := strings.Join(settings["LoadCredential"], " "); !strings.Contains(creds, "gitlab-token:") || !strings.Contains(creds, "gitlab-webhook-secret:") {
		t.Errorf("LoadCredential=%q: the secrets must come as credentials", creds)
	}
	env, _ := os.ReadFile("systemd/strata.env")
	if regexp.MustCompile(`(?m)^\s*STRATA_GITLAB_(TOKEN|WEBHOOK_SECRET)=`).Match(env) {
		t.Error("strata.env sets a secret")
	}
	exec0 := settings["ExecStart"]
	if len(exec0) != 1 {
		t.Fatalf("ExecStart=%q", exec0)
	}
	fields := strings.Fields(exec0[0])
	if fields[0] != "/usr/local/bin/strata" || fields[1] != "server" {
		t.Fatalf("ExecStart=%s", exec0[0])
	}
	known := serverFlags(t)
	for _, f := range flagsIn(fields) {
		if !slices.Contains(known, f) {
			t.Errorf("ExecStart passes --%s, which strata server does not know", f)
		}
	}

	analyze := needTool(t, "systemd-analyze")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyUnit := filepath.Join(dir, "strata.service")
	if err := os.WriteFile(copyUnit, bytes.ReplaceAll(data, []byte("/usr/local/bin/strata"), []byte(self)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", "--man=no", copyUnit).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "strata.service") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
}
