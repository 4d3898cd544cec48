package stacks

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

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
