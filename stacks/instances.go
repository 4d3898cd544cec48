package stacks

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
	"text/template"
)

// DefaultWorkspace is terraform's workspace when none is named.
const DefaultWorkspace = "default"

// InstanceName names a stack instance the way a user writes it: DIR for
// the default workspace, DIR@WORKSPACE for any other.
func InstanceName(dir, workspace string) string {
	if workspace == "" || workspace == DefaultWorkspace {
		return dir
	}
	return dir + "@" + workspace
}

// SplitInstance reads a stack as a user names it: "DIR" (workspace "",
// meaning every instance of DIR) or "DIR@WORKSPACE". The directory is
// normalised as in strata.yaml ("./a/" is "a").
func SplitInstance(name string) (dir, workspace string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndex(name, "@"); i >= 0 {
		name, workspace = name[:i], name[i+1:]
	}
	return normalDir(name), workspace
}

// CleanName normalises a stack as a user names it: "./live/app/" is
// "live/app", "live/app/@prod" is "live/app@prod" ("live/app@default" stays:
// it names the default workspace's instance only).
func CleanName(name string) string {
	dir, ws := SplitInstance(name)
	if ws == "" {
		return dir
	}
	return dir + "@" + ws
}

// Names reports whether name, as a user writes it, names the instance
// (dir, workspace): DIR names every instance of DIR, DIR@WORKSPACE one.
func Names(name, dir, workspace string) bool {
	d, ws := SplitInstance(name)
	if workspace == "" {
		workspace = DefaultWorkspace
	}
	return d == dir && (ws == "" || ws == workspace)
}

func normalDir(name string) string {
	dir := path.Clean(strings.Trim(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "./"), "/"))
	if dir == "" {
		return "."
	}
	return dir
}

// ExtraArgs are the extra terraform arguments of a strata.yaml entry, per
// command, from the allowlist of checkExtraArgs.
type ExtraArgs struct {
	Init  []string `yaml:"init" json:"init,omitempty"`
	Plan  []string `yaml:"plan" json:"plan,omitempty"`
	Apply []string `yaml:"apply" json:"apply,omitempty"`
}

func (e ExtraArgs) empty() bool { return len(e.Init)+len(e.Plan)+len(e.Apply) == 0 }

// WorkspacesOf returns the workspaces of the stack at dir: its entry's
// workspaces, or its one workspace, or the default one.
func (c *Config) WorkspacesOf(dir string) []string {
	s := c.Stack(dir)
	switch {
	case s == nil:
		return []string{DefaultWorkspace}
	case len(s.Workspaces) > 0:
		return s.Workspaces
	case s.Workspace != "":
		return []string{s.Workspace}
	}
	return []string{DefaultWorkspace}
}

// instanceEntry is the entry of the instance (dir, workspace) as if it
// were listed on its own: the entry with its one workspace, nil when
// strata.yaml does not list that instance. Rule 4 compares these, so
// adding a workspace to a list leaves the other instances alone.
func (c *Config) instanceEntry(dir, workspace string) *StackConfig {
	s := c.Stack(dir)
	if s == nil || !slices.Contains(c.WorkspacesOf(dir), workspace) {
		return nil
	}
	e := *s
	e.Workspace, e.Workspaces = workspace, nil
	return &e
}

// settings is what one instance gets from its entry, templates executed.
type settings struct {
	VarFiles  []string
	Env       map[string]string
	ExtraArgs ExtraArgs
	// inputFiles are every file given with -var-file: VarFiles and those
	// of ExtraArgs.
	inputFiles []string
}

// templateData is what var_files and extra_args templates see.
type templateData struct {
	Dir       string
	Workspace string
}

// settingsFor renders the entry's per-instance settings for workspace.
// Errors name the key, not the line: the caller adds it.
func (s *StackConfig) settingsFor(workspace string) (settings, error) {
	out := settings{Env: s.Env}
	data := templateData{Dir: s.Dir, Workspace: workspace}
	for i, vf := range s.VarFiles {
		p, err := renderPath(vf, data)
		if err != nil {
			return out, fmt.Errorf("var_files[%d]: %v", i, err)
		}
		out.VarFiles = append(out.VarFiles, p)
		out.inputFiles = append(out.inputFiles, p)
	}
	for _, cmd := range []struct {
		name string
		in   []string
		out  *[]string
	}{{"init", s.ExtraArgs.Init, &out.ExtraArgs.Init}, {"plan", s.ExtraArgs.Plan, &out.ExtraArgs.Plan}, {"apply", s.ExtraArgs.Apply, &out.ExtraArgs.Apply}} {
		args, files, err := checkExtraArgs(cmd.name, cmd.in, data)
		if err != nil {
			return out, fmt.Errorf("extra_args.%s%v", cmd.name, err)
		}
		*cmd.out = args
		for _, f := range files {
			if !slices.Contains(out.inputFiles, f) {
				out.inputFiles = append(out.inputFiles, f)
			}
		}
	}
	return out, nil
}

func render(text string, data templateData) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%q: %v", text, strings.TrimPrefix(err.Error(), "template: "))
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%q: %v (a template sees {{ .Dir }} and {{ .Workspace }})", text, strings.TrimPrefix(err.Error(), "template: "))
	}
	return b.String(), nil
}

// renderPath renders a repo-relative file path template.
func renderPath(text string, data templateData) (string, error) {
	p, err := render(text, data)
	if err != nil {
		return "", err
	}
	clean, err := cleanDir(p)
	if err != nil {
		return "", fmt.Errorf("%q: want a file path relative to the repository's root: %v", p, err)
	}
	if clean == "." {
		return "", fmt.Errorf("%q is not a file", p)
	}
	return clean, nil
}

// instances lists the stack instances of dirs (the stack directories,
// sorted): one per workspace of each, with its entry's settings and its
// dependencies resolved. A dependency on DIR@WORKSPACE is that instance;
// a dependency on DIR is DIR's instance in the same workspace when DIR has
// one (live/app@prod after live/network@prod), else every instance of DIR.
func (a *Analysis) instances(dirs []string) ([]Stack, error) {
	cfg := a.Config
	workspaces := map[string][]string{}
	for _, d := range dirs {
		workspaces[d] = cfg.WorkspacesOf(d)
	}
	var out []Stack
	for _, d := range dirs {
		i := slices.IndexFunc(cfg.Stacks, func(s StackConfig) bool { return s.Dir == d })
		for _, ws := range workspaces[d] {
			st := Stack{Dir: d, Workspace: ws, DependsOn: []string{}}
			if i < 0 {
				out = append(out, st)
				continue
			}
			entry := &cfg.Stacks[i]
			set, err := entry.settingsFor(ws)
			if err != nil {
				return nil, &ConfigError{fmt.Errorf("%s:%d: stacks[%d].%v", ConfigFile, entry.Line, i, err)}
			}
			st.VarFiles, st.Env, st.ExtraArgs, st.inputFiles = set.VarFiles, set.Env, set.ExtraArgs, set.inputFiles
			for _, dep := range entry.DependsOn {
				depDir, depWS := SplitInstance(dep)
				have, isStack := workspaces[depDir]
				switch {
				case !isStack:
					return nil, &ConfigError{fmt.Errorf("%s:%d: stacks[%d].depends_on: %s is not a stack in commit %s", ConfigFile, entry.Line, i, depDir, short(a.snap.commit.Hash))}
				case depWS != "" && !slices.Contains(have, depWS):
					return nil, &ConfigError{fmt.Errorf("%s:%d: stacks[%d].depends_on: %s has no workspace %q (its workspaces: %s)", ConfigFile, entry.Line, i, depDir, depWS, strings.Join(have, ", "))}
				case depWS != "":
					st.DependsOn = appendNew(st.DependsOn, InstanceName(depDir, depWS))
				case slices.Contains(have, ws):
					st.DependsOn = appendNew(st.DependsOn, InstanceName(depDir, ws))
				default:
					for _, w := range have {
						st.DependsOn = appendNew(st.DependsOn, InstanceName(depDir, w))
					}
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Resolve turns stacks as a user names them into instance names, in the
// analysis' order: DIR is every instance of DIR, DIR@WORKSPACE one. An
// unknown directory or workspace is an error saying what exists.
func (a *Analysis) Resolve(names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		dir, ws := SplitInstance(n)
		if whole := normalDir(strings.TrimSpace(n)); ws != "" && a.Stack(dir) == nil && a.Stack(whole) != nil {
			dir, ws = whole, "" // a directory whose name holds "@"
		}
		var have []string
		for _, st := range a.Stacks {
			if st.Dir == dir {
				have = append(have, st.Workspace)
				if ws == "" || ws == st.Workspace {
					want[st.Name()] = true
				}
			}
		}
		switch {
		case have == nil:
			return nil, fmt.Errorf("%s is not a stack at %s (strata stacks lists them)", dir, short(a.snap.commit.Hash))
		case ws != "" && !slices.Contains(have, ws):
			return nil, fmt.Errorf("%s has no workspace %q at %s (its workspaces: %s)", dir, ws, short(a.snap.commit.Hash), strings.Join(have, ", "))
		}
	}
	var out []string
	for _, st := range a.Stacks {
		if want[st.Name()] {
			out = append(out, st.Name())
		}
	}
	return out, nil
}
