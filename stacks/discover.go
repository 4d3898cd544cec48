package stacks

import (
	"container/heap"
	"context"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/sync/errgroup"
)

// Stack is a stack instance: a Terraform root module in one workspace,
// planned and applied on its own. A directory whose strata.yaml entry lists
// workspaces is one Stack per workspace.
type Stack struct {
	Dir       string `json:"dir"`
	Workspace string `json:"workspace"`
	// DependsOn names the instances this one comes after (see
	// Analysis.instances for how a directory in depends_on is read).
	DependsOn []string `json:"depends_on"`
	// Modules lists the local modules the stack calls, directly or through
	// other local modules, sorted.
	Modules []string `json:"modules"`
	// VarFiles are passed to plan as -var-file, repo-relative.
	VarFiles []string `json:"var_files,omitempty"`
	// Env is set in terraform's environment.
	Env map[string]string `json:"env,omitempty"`
	// ExtraArgs are added to init, plan and apply, as "-flag=value";
	// -var-file paths are repo-relative.
	ExtraArgs ExtraArgs `json:"extra_args,omitzero"`
	// inputFiles are the files given with -var-file (VarFiles and those of
	// ExtraArgs).
	inputFiles []string
}

// Name is how the instance is written: DIR, or DIR@WORKSPACE.
func (s Stack) Name() string { return InstanceName(s.Dir, s.Workspace) }

// InputFiles are the repo-relative files the instance gives terraform
// with -var-file: its VarFiles, and those of its ExtraArgs.
func (s Stack) InputFiles() []string { return s.inputFiles }

// Analysis is a repository at one commit: its configuration, its stacks in
// dependency order and the local module graph.
type Analysis struct {
	Commit   string
	Config   *Config
	Stacks   []Stack // topological order by depends_on, ties by path
	Warnings []string

	snap     *snapshot
	calls    map[string][]string // dir -> directories it calls, sorted
	unparsed map[string]string   // dir -> its first parse error
	closure  map[string][]string // stack dir -> Modules
	byName   map[string]int      // instance name -> index in Stacks
	// mu serialises Inputs: go-git's trees fill caches as they are read.
	mu sync.Mutex
}

// Analyze discovers the stacks of the repository at commit c.
func (r *Repo) Analyze(ctx context.Context, c *object.Commit) (*Analysis, error) {
	snap, err := r.snapshot(c)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(snap)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Commit: c.Hash.String(), Config: cfg, snap: snap}
	if err := a.readCalls(ctx); err != nil {
		return nil, err
	}
	if err := a.findStacks(); err != nil {
		return nil, err
	}
	return a, nil
}

// loadConfig reads strata.yaml from the commit's tree; a repo without one
// gets the defaults.
func loadConfig(s *snapshot) (*Config, error) {
	data, ok, err := s.readFile(ConfigFile)
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

// readCalls fills the module graph: for every Terraform directory, the
// local directories it calls. Files are read in one goroutine (go-git's
// object storage is not safe for concurrent use) and parsed by a pool.
func (a *Analysis) readCalls(ctx context.Context) error {
	type job struct {
		blob plumbing.Hash
		name string
		data []byte
	}
	r := a.snap.repo
	results := map[plumbing.Hash]fileCalls{}
	var todo []job
	for _, p := range a.snap.paths {
		for _, f := range a.snap.dirs[p].Files {
			if _, done := results[f.Blob]; done {
				continue
			}
			if fc, ok := r.calls.get(f.Blob); ok {
				results[f.Blob] = fc
				continue
			}
			results[f.Blob] = fileCalls{} // placeholder: parsed below
			todo = append(todo, job{blob: f.Blob, name: f.Name})
		}
	}
	if len(todo) > 0 {
		parsed := make([]fileCalls, len(todo))
		jobs := make(chan int)
		g, gctx := errgroup.WithContext(ctx)
		for w := 0; w < runtime.NumCPU(); w++ {
			g.Go(func() error {
				for i := range jobs {
					parsed[i] = parseModuleCalls(todo[i].name, todo[i].data)
				}
				return nil
			})
		}
		g.Go(func() error {
			defer close(jobs)
			for i := range todo {
				data, err := readBlob(r, todo[i].blob)
				if err != nil {
					return fmt.Errorf("read blob %s (%s): %w", todo[i].blob, todo[i].name, err)
				}
				todo[i].data = data
				select {
				case jobs <- i:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
		if err := g.Wait(); err != nil {
			return err
		}
		for i, j := range todo {
			results[j.blob] = parsed[i]
			r.calls.put(j.blob, parsed[i])
		}
	}

	a.calls = map[string][]string{}
	a.unparsed = map[string]string{}
	for _, p := range a.snap.paths {
		seen := map[string]bool{}
		for _, f := range a.snap.dirs[p].Files {
			fc := results[f.Blob]
			file := path.Join(p, f.Name)
			if fc.Err != "" {
				if _, dup := a.unparsed[p]; !dup {
					a.unparsed[p] = fmt.Sprintf("%s:%d: %s", file, fc.ErrLine, fc.Err)
				}
				continue
			}
			for _, src := range fc.Sources {
				target, ok := resolveSource(p, src)
				if !ok {
					a.warnf("%s: module source %q leaves the repository; strata does not follow it", file, src)
					continue
				}
				if target != p && !seen[target] {
					seen[target] = true
					a.calls[p] = append(a.calls[p], target)
				}
			}
		}
		sort.Strings(a.calls[p])
	}
	for _, p := range sortedKeys(a.unparsed) {
		a.warnf("%s (stacks using %s are planned whenever a local module changes)", a.unparsed[p], p)
	}
	return nil
}

// findStacks applies the rule of "Which directories are stacks"
// (README.md): a Terraform directory is a stack unless another one calls
// it or an ignore glob matches it; directories listed in strata.yaml are
// stacks whatever the rule says.
func (a *Analysis) findStacks() error {
	called := map[string]bool{}
	for _, targets := range a.calls {
		for _, t := range targets {
			called[t] = true
		}
	}
	cfg := a.Config
	isStack := map[string]bool{}
	for _, p := range a.snap.paths {
		if !called[p] && !matchAny(cfg.Ignore, p) {
			isStack[p] = true
		}
	}
	for i := range cfg.Stacks {
		s := &cfg.Stacks[i]
		if !a.snap.isDir(s.Dir) {
			return &ConfigError{fmt.Errorf("%s:%d: stacks[%d].dir: %s does not exist in commit %s", ConfigFile, s.Line, i, s.Dir, short(a.snap.commit.Hash))}
		}
		if _, ok := a.snap.dirs[s.Dir]; !ok {
			a.warnf("%s:%d: stack %s holds no .tf or .tf.json file", ConfigFile, s.Line, s.Dir)
		}
		isStack[s.Dir] = true
	}
	var dirs []string
	for d := range isStack {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	instances, err := a.instances(dirs)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(instances))
	deps := map[string][]string{}
	byName := map[string]Stack{}
	for _, st := range instances {
		names = append(names, st.Name())
		deps[st.Name()] = st.DependsOn
		byName[st.Name()] = st
	}
	order, err := topoSort(names, deps)
	if err != nil {
		return err
	}
	a.closure = map[string][]string{}
	a.byName = map[string]int{}
	for _, name := range order {
		st := byName[name]
		if _, done := a.closure[st.Dir]; !done {
			a.closure[st.Dir] = a.modulesOf(st.Dir)
		}
		st.Modules = a.closure[st.Dir]
		a.byName[name] = len(a.Stacks)
		a.Stacks = append(a.Stacks, st)
	}
	return nil
}

// modulesOf walks the module graph from dir; cycles are tolerated.
func (a *Analysis) modulesOf(dir string) []string {
	seen := map[string]bool{dir: true}
	stack := []string{dir}
	var mods []string
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range a.calls[d] {
			if !seen[t] {
				seen[t] = true
				mods = append(mods, t)
				stack = append(stack, t)
			}
		}
	}
	sort.Strings(mods)
	if mods == nil {
		mods = []string{}
	}
	return mods
}

// Stack returns the first instance of the stack at dir, or nil when dir is
// not a stack.
func (a *Analysis) Stack(dir string) *Stack {
	for i := range a.Stacks {
		if a.Stacks[i].Dir == dir {
			return &a.Stacks[i]
		}
	}
	return nil
}

// Instance returns the instance named name (DIR or DIR@WORKSPACE), or nil.
func (a *Analysis) Instance(name string) *Stack {
	dir, ws := SplitInstance(name)
	if i, ok := a.byName[InstanceName(dir, ws)]; ok {
		return &a.Stacks[i]
	}
	return nil
}

// Inputs maps what the plan of an instance reads from the repository to
// its git hash at the analysed commit: the stack's directory and every
// local module it calls (tree hashes), and its var files (blob hashes).
// What is absent maps to "". Two commits with equal Inputs give an
// instance the same code and variables. It is safe for concurrent use.
func (a *Analysis) Inputs(name string) map[string]string {
	st := a.Instance(name)
	if st == nil {
		return map[string]string{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	in := map[string]string{st.Dir: a.snap.treeHash(st.Dir)}
	for _, m := range a.closure[st.Dir] {
		in[m] = a.snap.treeHash(m)
	}
	for _, f := range st.inputFiles {
		in[f] = a.snap.blobHash(f)
	}
	return in
}

func (a *Analysis) warnf(format string, args ...any) {
	a.Warnings = append(a.Warnings, fmt.Sprintf(format, args...))
}

func matchAny(globs []string, p string) bool {
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, p); ok {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// topoSort orders dirs so that every stack comes after those it depends
// on; among stacks whose dependencies are all placed, the smallest path goes
// first. A cycle is an error that names it.
func topoSort(dirs []string, deps map[string][]string) ([]string, error) {
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
