package stacks

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"runtime"
	"strings"
	"text/template"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/hashicorp/go-version"
	"gopkg.in/yaml.v3"
)

// ConfigFile is the name of the repo configuration, at the repo root.
const ConfigFile = "strata.yaml"

// Apply triggers for Config.ApplyOn.
const (
	ApplyOnMerge    = "merge"
	ApplyOnApproval = "approval"
	ApplyOnComment  = "comment"
)

// Requirements that must hold before an apply.
const (
	RequireApproved  = "approved"
	RequireMergeable = "mergeable"
	RequireFresh     = "fresh"
)

// defaultIgnoreChanges is a stack's ignore_changes when strata.yaml says
// nothing: documentation never changes a plan.
const defaultIgnoreChanges = "**/*.md"

// Config is strata.yaml. The zero value, after applyDefaults, is the
// configuration of a repo without the file.
type Config struct {
	Version      int             `yaml:"version"`
	Terraform    TerraformConfig `yaml:"terraform"`
	Parallel     int             `yaml:"parallel"`
	ApplyOn      string          `yaml:"apply_on"`
	Automerge    bool            `yaml:"automerge"`
	Requirements []string        `yaml:"requirements"`
	Ignore       []string        `yaml:"ignore"`
	Backend      BackendConfig   `yaml:"backend"`
	Stacks       []StackConfig   `yaml:"stacks"`
	Policy       PolicyConfig    `yaml:"policy"`
	Drift        DriftConfig     `yaml:"drift"`
}

// TerraformConfig picks the Terraform binary.
type TerraformConfig struct {
	Binary  string `yaml:"binary"`  // "terraform" or "tofu"
	Version string `yaml:"version"` // a version constraint, e.g. ">= 1.5"
}

// BackendConfig is state configuration strata supplies to every stack.
type BackendConfig struct {
	// S3 holds the arguments of Terraform's S3 backend, passed through as
	// -backend-config; "key" is a Go template over the stack ({{ .Dir }},
	// {{ .Workspace }}).
	S3 map[string]any `yaml:"s3"`
}

// StackConfig is an entry of strata.yaml's stacks list.
type StackConfig struct {
	Dir           string   `yaml:"dir"`
	DependsOn     []string `yaml:"depends_on"`
	Watch         []string `yaml:"watch"`
	IgnoreChanges []string `yaml:"ignore_changes"`
	// Workspace is the entry's one workspace; Workspaces makes one stack
	// instance of the directory per workspace (instances.go).
	Workspace  string   `yaml:"workspace"`
	Workspaces []string `yaml:"workspaces"`
	// VarFiles are repo-relative -var-file paths, Go templates over .Dir
	// and .Workspace.
	VarFiles []string `yaml:"var_files"`
	// Env is set in the environment of the entry's terraform.
	Env          map[string]string `yaml:"env"`
	ExtraArgs    ExtraArgs         `yaml:"extra_args"`
	Requirements []string          `yaml:"requirements"`
	// Line is where the entry starts in strata.yaml.
	Line int `yaml:"-"`
}

// PolicyConfig points at Rego policies and who may approve a failure.
type PolicyConfig struct {
	Paths      []string `yaml:"paths"`
	Owners     []string `yaml:"owners"`
	Namespaces []string `yaml:"namespaces"`
}

// DriftConfig schedules drift scans.
type DriftConfig struct {
	Schedule string `yaml:"schedule"`
}

// ConfigError is a strata.yaml that cannot be used. Its message names
// strata.yaml:LINE and the key. It is permanent: retrying cannot help,
// the file must change.
type ConfigError struct{ err error }

func (e *ConfigError) Error() string { return e.err.Error() }

// Permanent reports that retrying cannot fix the error (package
// internal/fault reads it).
func (e *ConfigError) Permanent() bool { return true }

// ParseConfig reads and validates strata.yaml. name is used in messages
// (usually "strata.yaml"). Checks that need the repository, such as "this
// stack directory exists", happen in Discover. Errors are *ConfigError.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg, err := parseConfig(name, data)
	if err != nil {
		return nil, &ConfigError{err}
	}
	return cfg, nil
}

func parseConfig(name string, data []byte) (*Config, error) {
	cfg := &Config{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) > 0 {
		if err := decodeStrict(name, doc.Content[0], cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(name, doc.Content); err != nil {
		return nil, err
	}
	cfg.applyDefaults()
	return cfg, nil
}

// DefaultConfig is the configuration of a repo without strata.yaml.
func DefaultConfig() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Version == 0 {
		c.Version = 1
	}
	if c.Terraform.Binary == "" {
		c.Terraform.Binary = "terraform"
	}
	if c.Parallel == 0 {
		c.Parallel = runtime.NumCPU()
	}
	if c.ApplyOn == "" {
		c.ApplyOn = ApplyOnMerge
	}
	if c.Requirements == nil {
		c.Requirements = []string{RequireApproved, RequireMergeable, RequireFresh}
	}
	if len(c.Policy.Namespaces) == 0 {
		c.Policy.Namespaces = []string{"main"}
	}
}

// Stack returns the strata.yaml entry for dir, or nil.
func (c *Config) Stack(dir string) *StackConfig {
	for i := range c.Stacks {
		if c.Stacks[i].Dir == dir {
			return &c.Stacks[i]
		}
	}
	return nil
}

// validate checks what can be checked without the repository. Errors name
// the line of the offending entry.
func (c *Config) validate(name string, doc []*yaml.Node) error {
	lineOf := func(keys ...string) int { return findLine(doc, keys...) }
	errAt := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if c.Version != 0 && c.Version != 1 {
		return errAt(lineOf("version"), "version: %d is not supported; this strata reads version 1", c.Version)
	}
	if c.Terraform.Version != "" {
		if _, err := version.NewConstraint(c.Terraform.Version); err != nil {
			return errAt(lineOf("terraform", "version"), "terraform.version: %q is not a version constraint (try \">= 1.5\")", c.Terraform.Version)
		}
	}
	if c.Parallel < 0 {
		return errAt(lineOf("parallel"), "parallel: must be 1 or more, got %d", c.Parallel)
	}
	switch c.ApplyOn {
	case "", ApplyOnMerge, ApplyOnApproval, ApplyOnComment:
	default:
		return errAt(lineOf("apply_on"), "apply_on: %q is not one of merge, approval, comment", c.ApplyOn)
	}
	if err := checkRequirements(c.Requirements); err != nil {
		return errAt(lineOf("requirements"), "requirements: %v", err)
	}
	if err := checkGlobs(c.Ignore); err != nil {
		return errAt(lineOf("ignore"), "ignore: %v", err)
	}
	if k, ok := c.Backend.S3["key"]; ok {
		s, isString := k.(string)
		if !isString {
			return errAt(lineOf("backend", "s3", "key"), "backend.s3.key: want a string template such as \"{{ .Dir }}/terraform.tfstate\"")
		}
		if _, err := template.New("key").Option("missingkey=error").Parse(s); err != nil {
			return errAt(lineOf("backend", "s3", "key"), "backend.s3.key: %v", err)
		}
	}
	if c.Drift.Schedule != "" {
		if _, err := ParseSchedule(c.Drift.Schedule, time.Now()); err != nil {
			return errAt(lineOf("drift", "schedule"), "drift.schedule: %v", err)
		}
	}
	seen := map[string]int{}
	for i := range c.Stacks {
		s := &c.Stacks[i]
		key := fmt.Sprintf("stacks[%d]", i)
		dir, err := cleanDir(s.Dir)
		if err != nil {
			return errAt(s.Line, "%s.dir: %v", key, err)
		}
		s.Dir = dir
		if prev, dup := seen[dir]; dup {
			return errAt(s.Line, "%s.dir: %q is already listed at line %d", key, dir, prev)
		}
		seen[dir] = s.Line
		for j, dep := range s.DependsOn {
			d, err := cleanDependency(dep)
			if err != nil {
				return errAt(s.Line, "%s.depends_on[%d]: %v", key, j, err)
			}
			if depDir, _ := SplitInstance(d); depDir == dir {
				return errAt(s.Line, "%s.depends_on: %q depends on itself", key, dir)
			}
			s.DependsOn[j] = d
		}
		if err := checkGlobs(s.Watch); err != nil {
			return errAt(s.Line, "%s.watch: %v", key, err)
		}
		if err := checkGlobs(s.IgnoreChanges); err != nil {
			return errAt(s.Line, "%s.ignore_changes: %v", key, err)
		}
		if err := checkRequirements(s.Requirements); err != nil {
			return errAt(s.Line, "%s.requirements: %v", key, err)
		}
		entryLine := func(p ...any) int { return nodeLine(doc, append([]any{"stacks", i}, p...)...) }
		if err := s.validateInstances(key, errAt, entryLine); err != nil {
			return err
		}
	}
	return nil
}

// IgnoreChangesFor returns the ignore_changes globs of the stack at dir.
func (c *Config) IgnoreChangesFor(dir string) []string {
	if s := c.Stack(dir); s != nil && s.IgnoreChanges != nil {
		return s.IgnoreChanges
	}
	return []string{defaultIgnoreChanges}
}

// RequirementsFor returns the apply requirements of the stack at dir.
func (c *Config) RequirementsFor(dir string) []string {
	if s := c.Stack(dir); s != nil && s.Requirements != nil {
		return s.Requirements
	}
	return c.Requirements
}

// sameStackEntry reports whether two entries configure a stack the same way.
func sameStackEntry(a, b *StackConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return reflect.DeepEqual(x, y)
}

func checkRequirements(reqs []string) error {
	for _, r := range reqs {
		switch r {
		case RequireApproved, RequireMergeable, RequireFresh:
		default:
			return fmt.Errorf("%q is not one of %s, %s, %s", r, RequireApproved, RequireMergeable, RequireFresh)
		}
	}
	return nil
}

func checkGlobs(globs []string) error {
	for _, g := range globs {
		if !doublestar.ValidatePattern(g) {
			return fmt.Errorf("%q is not a valid glob", g)
		}
	}
	return nil
}

// cleanDir normalises a repo-relative directory: "/" separators, no "./"
// prefix, no trailing slash. The repo root is ".".
func cleanDir(dir string) (string, error) {
	if strings.TrimSpace(dir) == "" {
		return "", errors.New("must not be empty")
	}
	d := path.Clean(strings.ReplaceAll(dir, `\`, "/"))
	if path.IsAbs(d) || d == ".." || strings.HasPrefix(d, "../") {
		return "", fmt.Errorf("%q must be a directory inside the repository, relative to its root", dir)
	}
	return d, nil
}

// findLine returns the line of the value at the key path in a YAML
// document, or the line of the nearest parent found.
func findLine(doc []*yaml.Node, keys ...string) int {
	if len(doc) == 0 {
		return 1
	}
	n := doc[0]
	line := n.Line
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				n, line, found = n.Content[i+1], n.Content[i].Line, true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}
