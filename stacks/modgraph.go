package stacks

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"golang.org/x/sync/errgroup"
)

// maxModuleDepth bounds the directories of a module path: symlinks can make
// module paths grow for ever (a module that calls itself through a link).
const maxModuleDepth = 64

// edge is a local module call. Terraform names the module by the lexical
// path (the caller's path joined with the source and cleaned); its files
// are wherever that path leads through symlinks.
type edge struct {
	Lex     string   // the module's path as Terraform names it
	Real    string   // where its files are (a submodule's path when Gitlink)
	Links   []string // symlinks on the way from Lex to Real
	Gitlink bool
}

// parse fills in the module calls of a file of a summary.
func (r *Repo) parse(f *sumFile) error {
	if f.Parsed {
		return nil
	}
	data, err := readBlob(r, f.Blob)
	if err != nil {
		return r.explain(fmt.Errorf("read blob %s (%s): %w", short(f.Blob), f.Name, err))
	}
	f.Calls, f.Parsed = parseModuleCalls(f.Name, data), true
	r.cache.parsed()
	return nil
}

// blobCalls parses a blob as a Terraform file called name, once a run.
func (r *Repo) blobCalls(name string, h plumbing.Hash) (fileCalls, error) {
	key := blobKey{h, strings.HasSuffix(name, ".json")}
	if fc, ok := r.blobs[key]; ok {
		return fc, nil
	}
	data, err := readBlob(r, h)
	if err != nil {
		return fileCalls{}, r.explain(fmt.Errorf("read blob %s (%s): %w", short(h), name, err))
	}
	fc := parseModuleCalls(name, data)
	r.blobs[key] = fc
	return fc, nil
}

// blobKey is a blob read in one syntax or the other.
type blobKey struct {
	blob plumbing.Hash
	json bool
}

// linkCalls returns the module calls of a symlinked Terraform file: those
// of the file it leads to, read in the syntax its own name says; an error
// when strata cannot read it.
func (a *Analysis) linkCalls(file string) (fileCalls, error) {
	if fc, ok := a.linkText[file]; ok {
		return fc, nil
	}
	problem := func(format string, args ...any) (fileCalls, error) {
		fc := fileCalls{ErrLine: 1, Err: fmt.Sprintf(format, args...)}
		a.linkText[file] = fc
		return fc, nil
	}
	target := a.snap.links[file]
	res := a.snap.resolve(file)
	switch {
	case res.Outside:
		return problem("symlink to %q leaves the repository; strata does not follow it, so it cannot read the file's module calls", target)
	case res.Loop:
		return problem("symlink to %q: too many levels of symlinks", target)
	case res.Gitlink:
		return problem("symlink to %q leads into the submodule %s, which strata cannot read", target, res.Path)
	}
	e, ok := a.snap.entry(res.Path)
	if !ok || !e.Mode.IsFile() || e.Mode == filemode.Symlink {
		return problem("symlink to %q: no file there at this commit", target)
	}
	fc, err := a.snap.repo.blobCalls(path.Base(file), e.Hash)
	if err != nil {
		return fileCalls{}, err
	}
	a.linkText[file] = fc
	return fc, nil
}

// parseAll parses, in parallel, the Terraform files of the directories
// that are not hidden that no summary holds the calls of. Files are read in
// one goroutine (go-git's object storage is not safe for concurrent use)
// and parsed by a pool; a blob is parsed once, wherever it appears.
func (a *Analysis) parseAll(ctx context.Context) error {
	type job struct {
		blob  plumbing.Hash
		name  string
		data  []byte
		files []*sumFile
	}
	r := a.snap.repo
	var todo []job
	queued := map[plumbing.Hash]int{}
	for _, p := range a.snap.paths {
		d := a.snap.dirs[p]
		if d.Hidden {
			continue
		}
		for i := range d.Files {
			f := &d.Files[i]
			if f.Link || f.Parsed {
				continue
			}
			if j, ok := queued[f.Blob]; ok && strings.HasSuffix(todo[j].name, ".json") == strings.HasSuffix(f.Name, ".json") {
				todo[j].files = append(todo[j].files, f)
				continue
			}
			queued[f.Blob] = len(todo)
			todo = append(todo, job{blob: f.Blob, name: f.Name, files: []*sumFile{f}})
		}
	}
	if len(todo) == 0 {
		return nil
	}
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
				return r.explain(fmt.Errorf("read blob %s (%s): %w", todo[i].blob, todo[i].name, err))
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
		for _, f := range j.files {
			f.Calls, f.Parsed = parsed[i], true
		}
	}
	r.cache.parsed()
	return nil
}

// read makes sure the files of d are parsed (parseAll leaves hidden
// directories, read only when a call leads there) and records the first
// file strata cannot read.
func (a *Analysis) read(d *tfDir) error {
	if d.read {
		return nil
	}
	for i := range d.Files {
		fc, err := a.callsIn(d, i)
		if err != nil {
			return err
		}
		if _, dup := a.unparsed[d.Path]; fc.Err != "" && !dup {
			a.unparsed[d.Path] = fmt.Sprintf("%s:%d: %s", path.Join(d.Path, d.Files[i].Name), fc.ErrLine, fc.Err)
		}
	}
	d.read = true
	return nil
}

// callsIn returns the module calls of the ith file of d.
func (a *Analysis) callsIn(d *tfDir, i int) (fileCalls, error) {
	f := &d.Files[i]
	if f.Link {
		return a.linkCalls(path.Join(d.Path, f.Name))
	}
	if err := a.snap.repo.parse(f); err != nil {
		return fileCalls{}, err
	}
	return f.Calls, nil
}

// buildGraph follows the module calls of every Terraform directory that is
// not hidden, and of every module those reach, hidden ones included.
func (a *Analysis) buildGraph() error {
	var queue []string // module paths that are not a directory of their own
	for _, p := range a.snap.paths {
		if d := a.snap.dirs[p]; !d.Hidden {
			if err := a.explore(p, d, &queue); err != nil {
				return err
			}
		}
	}
	for len(queue) > 0 {
		lex := queue[0]
		queue = queue[1:]
		if err := a.explore(lex, a.snap.dirs[a.lexReal[lex]], &queue); err != nil {
			return err
		}
	}
	for _, p := range sortedKeys(a.unparsed) {
		a.warnf("%s (stacks using %s are planned whenever a local module changes)", a.unparsed[p], p)
	}
	return nil
}

// explore records the calls of the module at path lex, whose files are
// those of d (nil when it has none), and queues the modules it reaches for
// the first time.
func (a *Analysis) explore(lex string, d *tfDir, queue *[]string) error {
	if d == nil {
		return nil
	}
	if err := a.read(d); err != nil {
		return err
	}
	var out []edge
	for i := range d.Files {
		fc, err := a.callsIn(d, i)
		if err != nil {
			return err
		}
		for _, src := range fc.Sources {
			target, ok := resolveSource(lex, src)
			if !ok {
				a.warnf("%s: module source %q leaves the repository; strata does not follow it", path.Join(d.Path, d.Files[i].Name), src)
				continue
			}
			if target == lex || hasEdge(out, target) {
				continue
			}
			if strings.Count(target, "/") >= maxModuleDepth {
				a.warnf("%s: module source %q: module paths nest deeper than %d directories; strata stops following them", path.Join(d.Path, d.Files[i].Name), src, maxModuleDepth)
				continue
			}
			res := a.snap.resolve(target)
			if res.Outside || res.Loop {
				a.warnf("%s: module source %q leads out of the repository or into a symlink cycle (through %s); strata does not follow it", path.Join(d.Path, d.Files[i].Name), src, strings.Join(res.Links, ", "))
				continue
			}
			e := edge{Lex: target, Real: res.Path, Links: res.Links, Gitlink: res.Gitlink}
			out = append(out, e)
			td := a.snap.dirs[e.Real]
			if td == nil || e.Gitlink {
				a.calledOther[e.Real] = true
				continue
			}
			td.reached = true
			if _, isDir := a.snap.dirs[target]; isDir && !td.Hidden {
				continue // explored as a directory of its own
			}
			if _, queued := a.lexReal[target]; !queued {
				a.lexReal[target] = e.Real
				*queue = append(*queue, target)
			}
		}
	}
	if lex == d.Path {
		d.edges = out
	} else {
		a.lexEdges[lex] = out
	}
	return nil
}

func hasEdge(es []edge, lex string) bool {
	for _, e := range es {
		if e.Lex == lex {
			return true
		}
	}
	return false
}

// edgesOf returns the calls of the module at path lex.
func (a *Analysis) edgesOf(lex string) []edge {
	if d, ok := a.snap.dirs[lex]; ok {
		return d.edges
	}
	return a.lexEdges[lex]
}

// isCalled reports whether a module call leads to p.
func (a *Analysis) isCalled(p string) bool {
	if d, ok := a.snap.dirs[p]; ok {
		return d.reached
	}
	return a.calledOther[p]
}

// owns reports whether changed paths under dir are credited to it: a
// Terraform directory that is not hidden or that a module call reaches, or
// a submodule a module call reaches.
func (a *Analysis) owns(dir string) bool {
	if d, ok := a.snap.dirs[dir]; ok {
		return !d.Hidden || d.reached
	}
	_, sub := a.snap.gitlinks[dir]
	return sub && a.calledOther[dir]
}

// callersOf lists the modules whose calls lead to dir.
func (a *Analysis) callersOf(dir string) []string {
	var out []string
	add := func(lex string, es []edge) {
		for _, e := range es {
			if e.Real == dir {
				out = append(out, lex)
				return
			}
		}
	}
	for _, p := range a.snap.paths {
		add(p, a.snap.dirs[p].edges)
	}
	for _, lex := range sortedKeys(a.lexEdges) {
		add(lex, a.lexEdges[lex])
	}
	return out
}

// closure is what a stack depends on beyond its own directory: the local
// modules it calls at any depth (directories, or submodules) and the
// symlinks on the way to them.
type closure struct {
	Modules []string
	Links   []string
}

// closureOf walks the module graph from a stack; cycles are tolerated.
func (a *Analysis) closureOf(dir string) *closure {
	a.walk++
	seen := func(lex string) bool {
		if d, ok := a.snap.dirs[lex]; ok {
			was := d.mark == a.walk
			d.mark = a.walk
			return was
		}
		was := a.lexMark[lex] == a.walk
		a.lexMark[lex] = a.walk
		return was
	}
	seen(dir)
	c := &closure{}
	stack := []string{dir}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range a.edgesOf(d) {
			if seen(e.Lex) {
				continue
			}
			if e.Real != dir {
				c.Modules = append(c.Modules, e.Real)
			}
			c.Links = append(c.Links, e.Links...)
			if !e.Gitlink {
				stack = append(stack, e.Lex)
			}
		}
	}
	c.Modules = sortUnique(c.Modules)
	c.Links = sortUnique(c.Links)
	return c
}

func sortUnique(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	sort.Strings(ss)
	out := ss[:1]
	for _, s := range ss[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}
