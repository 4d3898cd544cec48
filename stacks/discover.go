package stacks

import (
	"container/heap"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Stack is a Terraform root module: planned and applied on its own.
type Stack struct {
	Dir       string   `json:"dir"`
	Workspace string   `json:"workspace"`
	DependsOn []string `json:"depends_on"`
	// Modules lists the local modules the stack calls, directly or through
	// other local modules, sorted.
	Modules []string `json:"modules"`
}

// Analysis is a repository at one commit: its configuration, its stacks in
// dependency order and the local module graph.
type Analysis struct {
	Commit   string
	Config   *Config
	Stacks   []Stack // topological order by depends_on, ties by path
	Warnings []string

	snap        *snapshot
	linkText    map[string]fileCalls // symlinked Terraform file -> its calls
	unparsed    map[string]string    // dir -> its first parse error
	lexEdges    map[string][]edge    // calls of modules reached through symlinks
	lexReal     map[string]string    // such a module path -> where its files are
	lexMark     map[string]int
	calledOther map[string]bool // called paths that are no Terraform directory
	linkDeps    []linkDep
	closure     map[string]*closure // stack dir -> what it depends on
	index       map[string]int      // stack dir -> its place in Stacks
	warned      map[string]bool
	walk        int
}

// Analyze discovers the stacks of the repository at commit c.
func (r *Repo) Analyze(ctx context.Context, c *object.Commit) (*Analysis, error) {
	a, err := r.analyze(ctx, c, true)
	return a, r.explain(err)
}

// analyze is Analyze; without closures, stacks list no modules (what a
// merge base's analysis needs is which directories are stacks).
func (r *Repo) analyze(ctx context.Context, c *object.Commit, closures bool) (*Analysis, error) {
	snap, err := r.snapshot(c)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(snap)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Commit: c.Hash.String(), Config: cfg, snap: snap, linkText: map[string]fileCalls{},
		unparsed: map[string]string{}, lexEdges: map[string][]edge{}, lexReal: map[string]string{},
		lexMark: map[string]int{}, calledOther: map[string]bool{}, warned: map[string]bool{}}
	if err := a.parseAll(ctx); err != nil {
		return nil, err
	}
	if err := a.buildGraph(); err != nil {
		return nil, err
	}
	a.findLinkDeps()
	if err := a.findStacks(closures); err != nil {
		return nil, err
	}
	return a, nil
}

// loadConfig reads strata.yaml from the commit's tree; a repo without one
// gets the defaults.
func loadConfig(s *snapshot) (*Config, error) {
	data, ok, err := s.readConfigFile()
	if err != nil {
		return nil, err
	}
	if !ok {
		return DefaultConfig(), nil
	}
	cfg, err := ParseConfig(ConfigFile, data)
	if err != nil {
		return nil, fmt.Errorf("%w (in commit %s)", err, short(s.commit.Hash))
	}
	return cfg, nil
}

// findStacks applies the rule of "Which directories are stacks"
// (README.md): a Terraform directory is a stack unless another one calls
// it, an ignore glob matches it, or it is hidden; directories listed in
// strata.yaml are stacks whatever the rule says.
func (a *Analysis) findStacks(closures bool) error {
	cfg := a.Config
	var dirs []string // sorted, as snap.paths are
	for _, p := range a.snap.paths {
		if d := a.snap.dirs[p]; !d.Hidden && !d.reached && !matchAny(cfg.Ignore, p) {
			dirs = append(dirs, p)
		}
	}
	isStack := func(dir string) bool {
		i, found := sort.Find(len(dirs), func(i int) int { return strings.Compare(dir, dirs[i]) })
		return found && i < len(dirs)
	}
	listed := map[string]bool{}
	for i := range cfg.Stacks {
		s := &cfg.Stacks[i]
		if !a.snap.isDir(s.Dir) {
			return &ConfigError{fmt.Errorf("%s:%d: stacks[%d].dir: %s does not exist in commit %s", ConfigFile, s.Line, i, s.Dir, short(a.snap.commit.Hash))}
		}
		if _, ok := a.snap.dirs[s.Dir]; !ok {
			a.warnf("%s:%d: stack %s holds no Terraform file (.tf, .tf.json, .tofu, .tofu.json)", ConfigFile, s.Line, s.Dir)
		}
		listed[s.Dir] = true
	}
	for i := range cfg.Stacks {
		s := &cfg.Stacks[i]
		for _, dep := range s.DependsOn {
			if !listed[dep] && !isStack(dep) {
				return &ConfigError{fmt.Errorf("%s:%d: stacks[%d].depends_on: %s is not a stack in commit %s", ConfigFile, s.Line, i, dep, short(a.snap.commit.Hash))}
			}
		}
	}
	for _, d := range sortedKeys(listed) {
		if !isStack(d) {
			dirs = append(dirs, d)
		}
	}
	deps := map[string][]string{}
	for _, s := range cfg.Stacks {
		if len(s.DependsOn) > 0 {
			deps[s.Dir] = s.DependsOn
		}
	}
	order, err := topoSort(dirs, deps)
	if err != nil {
		return err
	}
	a.closure = make(map[string]*closure, len(order))
	a.index = make(map[string]int, len(order))
	a.Stacks = make([]Stack, 0, len(order))
	none := []string{}
	for _, d := range order {
		c := &closure{}
		if closures {
			c = a.closureOf(d)
		}
		a.closure[d] = c
		dependsOn := deps[d]
		if dependsOn == nil {
			dependsOn = none
		}
		mods := c.Modules
		if mods == nil {
			mods = none
		}
		a.index[d] = len(a.Stacks)
		a.Stacks = append(a.Stacks, Stack{Dir: d, Workspace: cfg.WorkspaceFor(d), DependsOn: dependsOn, Modules: mods})
	}
	return nil
}

// Stack returns the stack at dir, or nil.
func (a *Analysis) Stack(dir string) *Stack {
	if i, ok := a.index[dir]; ok {
		return &a.Stacks[i]
	}
	return nil
}

// Inputs maps the stack's directory and every local module it calls to its
// git tree hash at the analysed commit (a submodule to its commit), and the
// symlinks on the way to them and what the links in those directories lead
// to, to their hashes. A path that is absent maps to "". Two commits with
// equal Inputs give a stack the same code.
func (a *Analysis) Inputs(dir string) map[string]string {
	in := map[string]string{dir: a.snap.hashOf(dir)}
	c := a.closure[dir]
	if c == nil {
		return in
	}
	for _, m := range c.Modules {
		in[m] = a.snap.hashOf(m)
	}
	for _, l := range c.Links {
		in[l] = a.snap.hashOf(l)
	}
	reads := map[string]bool{dir: true}
	for _, m := range c.Modules {
		reads[m] = true
	}
	for _, ld := range a.linkDeps {
		if reads[ld.Owner] {
			in[ld.Target] = a.snap.hashOf(ld.Target)
		}
	}
	return in
}

// warnf adds a warning, once.
func (a *Analysis) warnf(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !a.warned[w] {
		a.warned[w] = true
		a.Warnings = append(a.Warnings, w)
	}
}

func matchAny(globs []string, p string) bool {
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, p); ok {
			return true
		}
	}
	return false
}

// topoSort orders dirs so that every stack comes after those it depends
// on; among stacks whose dependencies are all placed, the smallest path goes
// first. A cycle is an error that names it.
func topoSort(dirs []string, deps map[string][]string) ([]string, error) {
	if len(deps) == 0 {
		order := append([]string(nil), dirs...)
		sort.Strings(order)
		return order, nil
	}
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, d := range dirs {
		waiting[d] = len(deps[d])
		for _, dep := range deps[d] {
			dependents[dep] = append(dependents[dep], d)
		}
	}
	ready := &pathHeap{}
	for _, d := range dirs {
		if waiting[d] == 0 {
			heap.Push(ready, d)
		}
	}
	order := make([]string, 0, len(dirs))
	for ready.Len() > 0 {
		d := heap.Pop(ready).(string)
		order = append(order, d)
		for _, x := range dependents[d] {
			if waiting[x]--; waiting[x] == 0 {
				heap.Push(ready, x)
			}
		}
	}
	if len(order) < len(dirs) {
		return nil, &ConfigError{fmt.Errorf("%s: depends_on forms a cycle: %s", ConfigFile, strings.Join(findCycle(dirs, deps), " -> "))}
	}
	return order, nil
}

// findCycle returns one dependency cycle, first node repeated at the end.
func findCycle(dirs []string, deps map[string][]string) []string {
	sort.Strings(dirs)
	state := map[string]int{} // 0 unvisited, 1 on the path, 2 done
	var path []string
	var visit func(d string) []string
	visit = func(d string) []string {
		if state[d] == 1 {
			i := len(path) - 1
			for path[i] != d {
				i--
			}
			return append(append([]string{}, path[i:]...), d)
		}
		if state[d] == 2 {
			return nil
		}
		state[d] = 1
		path = append(path, d)
		ds := append([]string{}, deps[d]...)
		sort.Strings(ds)
		for _, dep := range ds {
			if c := visit(dep); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[d] = 2
		return nil
	}
	for _, d := range dirs {
		if c := visit(d); c != nil {
			return c
		}
	}
	return nil
}

type pathHeap []string

func (h pathHeap) Len() int           { return len(h) }
func (h pathHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h pathHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pathHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *pathHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ConfigAt reads strata.yaml as it is at commit c (the defaults when the
// file is absent).
func (r *Repo) ConfigAt(c *object.Commit) (*Config, error) {
	s, err := r.snapshot(c)
	if err != nil {
		return nil, err
	}
	return loadConfig(s)
}
