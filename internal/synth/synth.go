package synth

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Spec sizes a synthetic monorepo.
type Spec struct {
	Stacks         int // root modules under live/
	FilesPerStack  int // .tf files per stack
	Modules        int // local modules under modules/
	ModulesPerCall int // modules each stack calls
	ChangedFiles   int // files the second commit changes
}

// Large is the monorepo of the change-detection benchmark: 3,000 stacks
// with 3 files each, 600 modules of which half call another (so chains run
// several levels deep), each stack calling 2 modules, and a change of 200
// files.
var Large = Spec{Stacks: 3000, FilesPerStack: 3, Modules: 600, ModulesPerCall: 2, ChangedFiles: 200}

// Repo is a generated repository: Base and Head are the two commits.
type Repo struct {
	Dir, Base, Head string
}

// Generate writes the monorepo into dir, commits it on main, then commits
// the change on branch "change", and packs the repository as a clone would
// be.
func Generate(dir string, s Spec) (*Repo, error) {
	g := gitRunner(dir)
	if err := g("init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	if err := g("config", "gc.auto", "0"); err != nil { // gc once, at the end
		return nil, err
	}
	for m := 0; m < s.Modules; m++ {
		body := fmt.Sprintf("variable \"name\" {\n  type = string\n}\n\nresource \"terraform_data\" \"m\" {\n  input = \"module-%d-${var.name}\"\n}\n", m)
		// Odd modules call module (m-1)/2, which may be odd too: chains such
		// as 599 → 299 → 149 → 74 run several levels deep.
		if m%2 == 1 {
			body += fmt.Sprintf("\nmodule \"inner\" {\n  source = \"../m%03d\"\n  name   = var.name\n}\n", (m-1)/2)
		}
		if err := write(dir, fmt.Sprintf("modules/m%03d/main.tf", m), body); err != nil {
			return nil, err
		}
	}
	for i := 0; i < s.Stacks; i++ {
		stack := stackDir(i)
		for f := 0; f < s.FilesPerStack; f++ {
			var body string
			switch f {
			case 0:
				for c := 0; c < s.ModulesPerCall; c++ {
					body += fmt.Sprintf("module \"c%d\" {\n  source = \"../../../modules/m%03d\"\n  name   = \"s%d\"\n}\n\n", c, (i*7+c*131)%s.Modules, i)
				}
			case 1:
				body = fmt.Sprintf("variable \"size\" {\n  type    = number\n  default = %d\n}\n", i%5)
			default:
				body = fmt.Sprintf("output \"id_%d\" {\n  value = %d\n}\n", f, i)
			}
			if err := write(dir, fmt.Sprintf("%s/f%d.tf", stack, f), body); err != nil {
				return nil, err
			}
		}
	}
	if err := commitAll(g, "synthetic monorepo"); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir}
	var err error
	if r.Base, err = output(dir, "rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	if err := g("checkout", "-q", "-b", "change"); err != nil {
		return nil, err
	}
	for c := 0; c < s.ChangedFiles; c++ {
		// Mostly stack files, spread over the repo, and a few modules.
		p := fmt.Sprintf("%s/f1.tf", stackDir((c*97)%s.Stacks))
		if c%20 == 0 {
			p = fmt.Sprintf("modules/m%03d/main.tf", (c*13)%s.Modules)
		}
		if err := appendTo(dir, p, fmt.Sprintf("\n# change %d\n", c)); err != nil {
			return nil, err
		}
	}
	if err := commitAll(g, "change"); err != nil {
		return nil, err
	}
	if r.Head, err = output(dir, "rev-parse", "HEAD"); err != nil {
		return nil, err
	}
	return r, g("gc", "-q")
}

func stackDir(i int) string {
	return fmt.Sprintf("live/env%02d/stack%04d", i%10, i)
}

func write(root, p, body string) error {
	full := filepath.Join(root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(body), 0o644)
}

func appendTo(root, p, text string) error {
	f, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(p)), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(text)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return werr
}

func commitAll(g func(...string) error, msg string) error {
	if err := g("add", "-A"); err != nil {
		return err
	}
	return g("commit", "-q", "-m", msg)
}

func gitRunner(dir string) func(args ...string) error {
	return func(args ...string) error {
		_, err := output(dir, args...)
		return err
	}
}

func output(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=synth", "GIT_AUTHOR_EMAIL=synth@example.com",
		"GIT_COMMITTER_NAME=synth", "GIT_COMMITTER_EMAIL=synth@example.com", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
