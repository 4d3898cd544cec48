package stacks

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeSum is what change detection needs of one git tree, names relative
// to it: its Terraform files, symlinks, submodules, and the subtrees that
// hold any of those. It depends on the tree's content alone, so it is kept
// in the analysis cache by tree hash.
type treeSum struct {
	Config   plumbing.Hash // blob of a strata.yaml in the tree, or zero
	TFDirs   int           // directories holding Terraform files, this one and below
	Files    []sumFile     // Terraform files, symlinks among them
	Links    []sumLink     // every symlink, with its target
	Gitlinks []sumRef      // submodules, with their commits
	Dirs     []sumRef      // subtrees whose summary is not empty

	used bool // read or added by this run (kept when the cache is pruned)
}

// sumFile is a Terraform file and, once parsed, the module calls it makes.
// A symlink's blob holds its target, not Terraform: its text is wherever
// the link leads, which depends on other trees, so its calls are never
// kept here.
type sumFile struct {
	Name   string
	Blob   plumbing.Hash
	Link   bool
	Parsed bool
	Calls  fileCalls
}

type sumLink struct{ Name, Target string }

type sumRef struct {
	Name string
	Hash plumbing.Hash
}

func (s *treeSum) empty() bool {
	return len(s.Files) == 0 && len(s.Links) == 0 && len(s.Gitlinks) == 0 && len(s.Dirs) == 0
}

// summarize returns the summary of tree h, from the cache or by reading
// the tree (and, below it, every tree not in the cache).
func (r *Repo) summarize(h plumbing.Hash) (*treeSum, error) {
	if s, ok := r.cache.tree(h); ok {
		return s, nil
	}
	t, err := r.readTree(h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", short(h), err)
	}
	s := &treeSum{}
	for _, e := range t.Entries {
		switch {
		case e.Mode == filemode.Dir:
			sub, err := r.summarize(e.Hash)
			if err != nil {
				return nil, err
			}
			if !sub.empty() {
				s.Dirs = append(s.Dirs, sumRef{e.Name, e.Hash})
				s.TFDirs += sub.TFDirs
			}
		case e.Mode == filemode.Submodule:
			s.Gitlinks = append(s.Gitlinks, sumRef{e.Name, e.Hash})
		case e.Mode == filemode.Symlink:
			target, err := readBlob(r, e.Hash)
			if err != nil {
				return nil, fmt.Errorf("read symlink %s: %w", e.Name, err)
			}
			s.Links = append(s.Links, sumLink{e.Name, string(target)})
			if isTerraformFile(e.Name) {
				s.Files = append(s.Files, sumFile{Name: e.Name, Blob: e.Hash, Link: true})
			}
		case e.Mode.IsFile():
			if isTerraformFile(e.Name) {
				s.Files = append(s.Files, sumFile{Name: e.Name, Blob: e.Hash})
			}
			if e.Name == ConfigFile {
				s.Config = e.Hash
			}
		}
	}
	if len(s.Files) > 0 {
		s.TFDirs++
	}
	r.cache.putTree(h, s)
	return s, nil
}

// isTerraformFile reports whether Terraform or OpenTofu reads the file:
// .tf, .tf.json, .tofu and .tofu.json.
func isTerraformFile(name string) bool {
	for _, ext := range []string{".tf", ".tf.json", ".tofu", ".tofu.json"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// tfDir is a directory holding at least one Terraform file: a module (a
// stack is a module nobody calls).
type tfDir struct {
	Path   string        // repo-relative, "." for the root
	Tree   plumbing.Hash // git tree hash of the directory, subdirectories included
	Files  []sumFile
	Hidden bool // a path component starts with "."

	// What the analysis of the snapshot found.
	read    bool   // its files are parsed
	edges   []edge // the modules it calls, under its own path
	reached bool   // some module call leads here
	mark    int    // the closure walk that saw it last
}

// snapshot is a repository at one commit, reduced to what change detection
// needs: its Terraform directories, symlinks and submodules. Each analysis
// has its own.
type snapshot struct {
	repo     *Repo
	commit   *object.Commit
	sum      *treeSum // of the root
	dirs     map[string]*tfDir
	paths    []string          // keys of dirs, sorted
	links    map[string]string // symlink path -> target
	gitlinks map[string]plumbing.Hash
	root     *object.Tree // read when first needed
}

func (r *Repo) snapshot(c *object.Commit) (*snapshot, error) {
	sum, err := r.summarize(c.TreeHash)
	if err != nil {
		return nil, r.explain(fmt.Errorf("read tree of %s: %w", short(c.Hash), err))
	}
	s := &snapshot{repo: r, commit: c, sum: sum, dirs: make(map[string]*tfDir, sum.TFDirs),
		links: map[string]string{}, gitlinks: map[string]plumbing.Hash{}}
	all := make([]tfDir, 0, sum.TFDirs)
	if err := s.expand("", false, c.TreeHash, sum, &all); err != nil {
		return nil, r.explain(fmt.Errorf("read tree of %s: %w", short(c.Hash), err))
	}
	s.paths = make([]string, len(all))
	for i := range all {
		s.dirs[all[i].Path] = &all[i]
		s.paths[i] = all[i].Path
	}
	sort.Strings(s.paths)
	return s, nil
}

// expand collects the Terraform directories, symlinks and submodules of
// the tree at prefix ("" for the root, else ending in "/") and below it.
func (s *snapshot) expand(prefix string, hidden bool, h plumbing.Hash, sum *treeSum, all *[]tfDir) error {
	if len(sum.Files) > 0 {
		dir := strings.TrimSuffix(prefix, "/")
		if dir == "" {
			dir = "."
		}
		*all = append(*all, tfDir{Path: dir, Tree: h, Files: sum.Files, Hidden: hidden})
	}
	for _, l := range sum.Links {
		s.links[prefix+l.Name] = l.Target
	}
	for _, g := range sum.Gitlinks {
		s.gitlinks[prefix+g.Name] = g.Hash
	}
	for _, d := range sum.Dirs {
		sub, err := s.repo.summarize(d.Hash)
		if err != nil {
			return err
		}
		if err := s.expand(prefix+d.Name+"/", hidden || strings.HasPrefix(d.Name, "."), d.Hash, sub, all); err != nil {
			return err
		}
	}
	return nil
}

// readConfigFile returns the content of strata.yaml at the snapshot's
// commit; ok is false when there is none.
func (s *snapshot) readConfigFile() (data []byte, ok bool, err error) {
	if s.sum.Config.IsZero() {
		return nil, false, nil
	}
	data, err = readBlob(s.repo, s.sum.Config)
	if err != nil {
		return nil, false, s.repo.explain(fmt.Errorf("read %s at %s: %w", ConfigFile, short(s.commit.Hash), err))
	}
	return data, true, nil
}

func readBlob(r *Repo, h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(r.git.Storer, h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// entry returns the git entry at p, reading trees from the root (for the
// few lookups the summaries do not answer).
func (s *snapshot) entry(p string) (*object.TreeEntry, bool) {
	if s.root == nil {
		t, err := s.repo.readTree(s.commit.TreeHash)
		if err != nil {
			return nil, false
		}
		s.root = t
	}
	t := s.root
	parts := strings.Split(p, "/")
	for i, name := range parts {
		var found *object.TreeEntry
		for k := range t.Entries {
			if t.Entries[k].Name == name {
				found = &t.Entries[k]
				break
			}
		}
		if found == nil {
			return nil, false
		}
		if i == len(parts)-1 {
			return found, true
		}
		if found.Mode != filemode.Dir {
			return nil, false
		}
		sub, err := s.repo.readTree(found.Hash)
		if err != nil {
			return nil, false
		}
		t = sub
	}
	return nil, false
}

// isDir reports whether p is a directory at the snapshot's commit.
func (s *snapshot) isDir(p string) bool {
	if _, ok := s.dirs[p]; ok || p == "." {
		return true
	}
	e, ok := s.entry(p)
	return ok && e.Mode == filemode.Dir
}

// hashOf returns the git hash of whatever is at p (a tree, a blob, a
// submodule's commit), or "" when nothing is.
func (s *snapshot) hashOf(p string) string {
	if d, ok := s.dirs[p]; ok {
		return d.Tree.String()
	}
	if p == "." {
		return s.commit.TreeHash.String()
	}
	if h, ok := s.gitlinks[p]; ok {
		return h.String()
	}
	if e, ok := s.entry(p); ok {
		return e.Hash.String()
	}
	return ""
}

// ownerDir returns the deepest directory for which owns is true that
// contains the file at p, or "" when none does.
func ownerDir(p string, owns func(string) bool) string {
	for d := path.Dir(p); ; d = path.Dir(d) {
		if owns(d) {
			return d
		}
		if d == "." {
			return ""
		}
	}
}

// relTo returns p relative to dir, for a p inside dir.
func relTo(dir, p string) string {
	if dir == "." {
		return p
	}
	return strings.TrimPrefix(p, dir+"/")
}

// within reports whether p is dir or lies under it.
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
