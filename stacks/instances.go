package stacks

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"
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

// The flags extra_args may hold, and the commands each belongs to. Any
// other flag could change what strata relies on (-chdir, -state, -out,
// -backend-config, -lock=false, -auto-approve…), so it is refused.
var extraArgFlags = map[string][]string{
	"-var":          {"init", "plan"},
	"-var-file":     {"init", "plan"},
	"-target":       {"plan"},
	"-refresh":      {"plan"},
	"-parallelism":  {"plan", "apply"},
	"-lock-timeout": {"init", "plan", "apply"},
}

const allowedFlags = "-var, -var-file, -target, -refresh=false, -parallelism=N, -lock-timeout=D"

// checkExtraArgs checks one command's extra arguments against the
// allowlist and renders them as "-flag=value", with -var-file paths
// repo-relative (files lists them). "-flag value" as two items is read as
// one. Errors start with "[i]: " for the caller to prefix with the key.
func checkExtraArgs(cmd string, args []string, data templateData) (out, files []string, err error) {
	for i := 0; i < len(args); i++ {
		at := i
		fail := func(format string, a ...any) ([]string, []string, error) {
			return nil, nil, fmt.Errorf("[%d]: %s", at, fmt.Sprintf(format, a...))
		}
		arg := strings.TrimSpace(args[i])
		if !strings.HasPrefix(arg, "-") {
			return fail("%q is not a flag; strata allows %s", arg, allowedFlags)
		}
		name, value, hasValue := strings.Cut("-"+strings.TrimLeft(arg, "-"), "=")
		cmds, known := extraArgFlags[name]
		if !known {
			return fail("%s is not allowed (strata allows %s)", name, allowedFlags)
		}
		if !slices.Contains(cmds, cmd) {
			why := "it is not a flag of terraform " + cmd
			if cmd == "apply" {
				why = "apply runs the reviewed plan file, which already holds the variables, targets and refresh mode of its plan; put it under extra_args.plan"
			}
			return fail("%s does not belong under %s: %s", name, cmd, why)
		}
		if !hasValue && name != "-refresh" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			value, hasValue = args[i], true
		}
		if !hasValue {
			return fail("%s needs a value (%s=…)", name, name)
		}
		if value, err = render(value, data); err != nil {
			return fail("%s: %v", name, err)
		}
		switch name {
		case "-var":
			if k, _, ok := strings.Cut(value, "="); !ok || k == "" {
				return fail("-var wants NAME=VALUE, got %q", value)
			}
		case "-var-file":
			if value, err = renderPath(value, templateData{}); err != nil {
				return fail("-var-file: %v", err)
			}
			files = append(files, value)
		case "-target":
			if strings.TrimSpace(value) == "" {
				return fail("-target wants a resource address")
			}
		case "-refresh":
			if value != "false" {
				return fail("only -refresh=false is allowed (refreshing is the default)")
			}
		case "-parallelism":
			if n, err := strconv.Atoi(value); err != nil || n < 1 {
				return fail("-parallelism wants a whole number of 1 or more, got %q", value)
			}
		case "-lock-timeout":
			if d, err := time.ParseDuration(value); err != nil || d < 0 {
				return fail("-lock-timeout wants a duration such as 10m, got %q", value)
			}
		}
		out = append(out, name+"="+value)
	}
	return out, files, nil
}

// ownedEnvNames and ownedEnvPrefixes are the variables strata decides for
// every terraform it starts, or keeps from it (planner/tf/env.go): an env
// entry may not set them.
var (
	ownedEnvNames = []string{
		"TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG", "TF_PLUGIN_CACHE_DIR",
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE", "TF_DATA_DIR", "TF_WORKSPACE",
		"TF_REATTACH_PROVIDERS", "TF_IN_AUTOMATION", "TF_INPUT", "CHECKPOINT_DISABLE",
	}
	ownedEnvPrefixes = []string{"STRATA_", "TF_LOG", "TF_CLI_ARGS"}
)

// EnvOwned reports whether strata owns the environment variable name, so
// that strata.yaml's env may not set it.
func EnvOwned(name string) bool {
	if slices.Contains(ownedEnvNames, name) {
		return true
	}
	for _, p := range ownedEnvPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func checkEnvName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "=\x00") || strings.TrimSpace(name) != name:
		return fmt.Errorf("%q is not an environment variable name", name)
	case EnvOwned(name):
		return fmt.Errorf("%s is set by strata for every terraform it runs and cannot be overridden", name)
	}
	return nil
}

// checkWorkspaceName applies terraform's rule (a name that URL path
// escaping leaves alone: no "/", "?", "%", space…) and strata's own: no
// "@", which separates DIR@WORKSPACE.
func checkWorkspaceName(name string) error {
	switch {
	case name == "":
		return errors.New("a workspace name must not be empty")
	case url.PathEscape(name) != name:
		return fmt.Errorf("%q is not a valid workspace name: terraform accepts only characters that need no escaping in a URL path (letters, digits, - _ . ~ and a few more; no /, space or %%)", name)
	case strings.Contains(name, "@"):
		return fmt.Errorf("%q is not a valid workspace name here: strata names stack instances DIR@WORKSPACE, so a workspace name cannot hold @", name)
	}
	return nil
}

// validateInstances checks an entry's workspace, workspaces, var_files,
// env and extra_args. line gives the line of a key path under the entry
// (strings for keys, ints for list items).
func (s *StackConfig) validateInstances(key string, errAt func(line int, format string, args ...any) error, line func(path ...any) int) error {
	if s.Workspace != "" && len(s.Workspaces) > 0 {
		return errAt(line("workspaces"), "%s: set workspace or workspaces, not both", key)
	}
	if s.Workspace != "" {
		if err := checkWorkspaceName(s.Workspace); err != nil {
			return errAt(line("workspace"), "%s.workspace: %v", key, err)
		}
	}
	if s.Workspaces != nil && len(s.Workspaces) == 0 {
		return errAt(line("workspaces"), "%s.workspaces: list at least one workspace, or leave the key out", key)
	}
	for j, ws := range s.Workspaces {
		if err := checkWorkspaceName(ws); err != nil {
			return errAt(line("workspaces", j), "%s.workspaces[%d]: %v", key, j, err)
		}
		if slices.Index(s.Workspaces, ws) < j {
			return errAt(line("workspaces", j), "%s.workspaces[%d]: %q is listed twice", key, j, ws)
		}
	}
	for _, name := range sortedKeys(s.Env) {
		if err := checkEnvName(name); err != nil {
			return errAt(line("env", name), "%s.env: %v", key, err)
		}
	}
	for _, ws := range s.workspaceList() {
		if _, err := s.settingsFor(ws); err != nil {
			return errAt(line(settingsPath(err.Error())...), "%s.%v", key, err)
		}
	}
	return nil
}

func (s *StackConfig) workspaceList() []string {
	switch {
	case len(s.Workspaces) > 0:
		return s.Workspaces
	case s.Workspace != "":
		return []string{s.Workspace}
	}
	return []string{DefaultWorkspace}
}

// settingsPath turns the start of a settingsFor error ("var_files[2]: …",
// "extra_args.plan[0]: …") into the key path of its line.
func settingsPath(msg string) []any {
	head, _, _ := strings.Cut(msg, ":")
	var p []any
	for _, part := range strings.Split(head, ".") {
		name, idx, ok := strings.Cut(part, "[")
		p = append(p, name)
		if ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil {
				p = append(p, n)
			}
		}
	}
	return p
}

// cleanDependency normalises a depends_on item: a directory, or one
// instance of it (DIR@WORKSPACE).
func cleanDependency(dep string) (string, error) {
	name, ws, hasWS := dep, "", false
	if i := strings.LastIndex(dep, "@"); i >= 0 {
		name, ws, hasWS = dep[:i], dep[i+1:], true
	}
	d, err := cleanDir(name)
	if err != nil {
		return "", err
	}
	if !hasWS {
		return d, nil
	}
	if err := checkWorkspaceName(ws); err != nil {
		return "", err
	}
	return InstanceName(d, ws), nil
}

// nodeLine returns the line of the node at path in a YAML document:
// strings name mapping keys, ints list items. Where the path runs out, the
// line of the nearest node found.
func nodeLine(doc []*yaml.Node, path ...any) int {
	if len(doc) == 0 {
		return 1
	}
	n := doc[0]
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line = n.Content[i].Line
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
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

// blobHash returns the git blob hash of file p, or "" when absent.
func (s *snapshot) blobHash(p string) string {
	f, err := s.root.File(p)
	if err != nil {
		return ""
	}
	return f.Hash.String()
}
