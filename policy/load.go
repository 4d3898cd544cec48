package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// DefaultTimeout bounds one Evaluate call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultNamespace is the package conftest and strata read rules from.
const DefaultNamespace = "main"

// ErrNoPolicies is returned by Load when the paths hold no policy file.
var ErrNoPolicies = errors.New("no policies")

// Options configure Load.
type Options struct {
	// Paths are directories, searched recursively for *.rego files (hidden
	// directories and *_test.rego files skipped), or single .rego files.
	Paths []string
	// Namespaces are the Rego packages whose deny, violation and warn rules
	// are evaluated, without "data.". Default: ["main"].
	Namespaces []string
	// Timeout bounds one Evaluate call. Default: DefaultTimeout.
	Timeout time.Duration
	// BaseDir, when set, makes the file names in errors and messages
	// relative to it (e.g. the repository root).
	BaseDir string
}

// unsafeBuiltins are refused at compile time: policies come from
// repositories and run inside the runner, so they must not reach the network
// (http.send could read cloud metadata endpoints and leak what it finds into
// a merge-request comment) or the runner's own runtime.
var unsafeBuiltins = map[string]struct{}{
	ast.HTTPSend.Name:        {},
	ast.NetLookupIPAddr.Name: {},
	ast.OPARuntime.Name:      {},
}

// conftest's rule names: deny, violation or warn, optionally followed by
// _suffix parts.
var (
	failureRule = regexp.MustCompile(`^(deny|violation)(_[a-zA-Z0-9]+)*$`)
	warningRule = regexp.MustCompile(`^warn(_[a-zA-Z0-9]+)*$`)
)

// Engine holds compiled policies. It is safe for concurrent use.
type Engine struct {
	rules   []*rule
	timeout time.Duration
}

// rule is one definition of a deny, violation or warn rule, evaluated on
// its own so each message names the file and line it came from.
type rule struct {
	namespace string
	name      string
	failure   bool // deny or violation; otherwise warn
	file      string
	line      int
	query     rego.PreparedEvalQuery
}

func (r *rule) String() string {
	return fmt.Sprintf("%s.%s (%s:%d)", r.namespace, r.name, r.file, r.line)
}

// Load reads, parses and compiles every policy under opts.Paths once. A
// syntax or compile error fails Load with every error's file:line. Paths
// without any policy file give ErrNoPolicies; policies without any deny,
// violation or warn rule in one of the namespaces are an error too, so a
// misnamed package never passes silently.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	if len(opts.Paths) == 0 {
		return nil, fmt.Errorf("%w: no policy path given", ErrNoPolicies)
	}
	namespaces := opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{DefaultNamespace}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	files, err := findFiles(opts.Paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no .rego files in %s", ErrNoPolicies, strings.Join(opts.Paths, ", "))
	}

	modules := make(map[string]*ast.Module, len(files))
	var errs []error
	for _, f := range files {
		name := displayName(opts.BaseDir, f)
		src, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := parseModule(name, string(src))
		if err != nil {
			errs = append(errs, regoErrors(err)...)
			continue
		}
		modules[name] = m
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	defs, err := addRuleCopies(modules, namespaces)
	if err != nil {
		return nil, err
	}

	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool {
		_, unsafe := unsafeBuiltins[b.Name]
		return unsafe
	})
	compiler := ast.NewCompiler().WithCapabilities(caps)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, errors.Join(regoErrors(compiler.Errors)...)
	}

	store := inmem.New()
	e := &Engine{timeout: timeout}
	for _, d := range defs {
		q, err := rego.New(
			rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(d.ref)))),
			rego.Compiler(compiler),
			rego.Store(store),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.rule, err)
		}
		d.rule.query = q
		e.rules = append(e.rules, d.rule)
	}
	return e, nil
}

// findFiles lists the policy files under paths, sorted and without
// duplicates.
func findFiles(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(f string) {
		if abs, err := filepath.Abs(f); err == nil && !seen[abs] {
			seen[abs] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("policy path: %w", err)
		}
		if !info.IsDir() {
			if filepath.Ext(p) != ".rego" {
				return nil, fmt.Errorf("policy path %s: not a directory or .rego file", p)
			}
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if isPolicyFile(d.Name()) {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("policy path: %w", err)
		}
	}
	sort.Strings(files)
	return files, nil
}

func isPolicyFile(name string) bool {
	return strings.HasSuffix(name, ".rego") && !strings.HasSuffix(name, "_test.rego")
}

// displayName is how a file is named in errors and messages.
func displayName(base, file string) string {
	if base != "" {
		if rel, err := filepath.Rel(base, file); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Clean(file))
}

// parseModule parses one file as Rego v1 (the OPA 1.x syntax) and, when that
// fails, as Rego v0, the syntax most conftest policies are written in
// (`deny[msg] { ... }`). When both fail, it returns the error of the parse
// that got further into the file, which is the one that reads the file's
// own dialect.
func parseModule(name, src string) (*ast.Module, error) {
	m, errV1 := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
	if errV1 == nil {
		return m, nil
	}
	m, errV0 := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV0, ProcessAnnotation: true})
	if errV0 == nil {
		return m, nil
	}
	if firstRow(errV0) > firstRow(errV1) {
		return nil, errV0
	}
	return nil, errV1
}

func firstRow(err error) int {
	var errs ast.Errors
	if errors.As(err, &errs) && len(errs) > 0 && errs[0].Location != nil {
		return errs[0].Location.Row
	}
	return 0
}

// regoErrors splits OPA's error list into one error per problem, each
// starting with file:line, without the duplicates the rule copies cause.
func regoErrors(err error) []error {
	var list ast.Errors
	if !errors.As(err, &list) {
		return []error{err}
	}
	var out []error
	seen := map[string]bool{}
	for _, e := range list {
		msg := e.Code + ": " + e.Message
		if e.Location != nil {
			msg = fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, msg)
		}
		if !seen[msg] {
			seen[msg] = true
			out = append(out, errors.New(msg))
		}
	}
	return out
}

// ruleDef is a rule definition to evaluate and the ref of its copy.
type ruleDef struct {
	rule *rule
	ref  ast.Ref
}

// addRuleCopies finds every definition of a deny, violation or warn rule in
// the namespaces and adds to its module a copy of it under a generated
// name. Evaluating the copies one by one tells which definition produced a
// message, while the original rules keep their meaning for any rule that
// refers to them.
func addRuleCopies(modules map[string]*ast.Module, namespaces []string) ([]ruleDef, error) {
	found := map[string]int{}
	packages := map[string]bool{}
	var defs []ruleDef
	var errs []error
	for _, file := range slices.Sorted(maps.Keys(modules)) {
		m := modules[file]
		ns := strings.TrimPrefix(m.Package.Path.String(), "data.")
		packages[ns] = true
		if !slices.Contains(namespaces, ns) {
			continue
		}
		for _, r := range slices.Clone(m.Rules) {
			name := r.Head.Ref()[0].String()
			failure := failureRule.MatchString(name)
			if !failure && !warningRule.MatchString(name) {
				continue
			}
			if len(r.Head.Ref()) > 1 || len(r.Head.Args) > 0 {
				errs = append(errs, fmt.Errorf("%s:%d: rule %s: deny, violation and warn rules must be sets of messages (`%s contains msg if { ... }`)",
					file, r.Location.Row, r.Head.Ref(), name))
				continue
			}
			copyName := fmt.Sprintf("__strata_rule_%d", len(defs))
			cp := r.Copy()
			for c := cp; c != nil; c = c.Else {
				c.Head.Name = ast.Var(copyName)
				c.Head.Reference = ast.Ref{ast.VarTerm(copyName)}
			}
			cp.Module = m
			m.Rules = append(m.Rules, cp)
			// Rule.Copy points the copied METADATA at the copy; registering it
			// keeps rego.metadata.rule() working in the copy.
			m.Annotations = append(m.Annotations, cp.Annotations...)
			found[ns]++
			defs = append(defs, ruleDef{
				rule: &rule{namespace: ns, name: name, failure: failure, file: file, line: r.Location.Row},
				ref:  m.Package.Path.Append(ast.StringTerm(copyName)),
			})
		}
	}
	for _, ns := range namespaces {
		if found[ns] == 0 {
			errs = append(errs, fmt.Errorf("%w: no deny, violation or warn rule in namespace %q (packages found: %s)",
				ErrNoPolicies, ns, strings.Join(slices.Sorted(maps.Keys(packages)), ", ")))
		}
	}
	return defs, errors.Join(errs...)
}
