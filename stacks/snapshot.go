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

// tfFile is a Terraform file in a directory, by name and blob hash.
type tfFile struct {
	Name string
	Blob plumbing.Hash
}

// tfDir is a directory holding at least one .tf or .tf.json file: a
// Terraform module (a stack is a module nobody calls).
type tfDir struct {
	Path  string        // repo-relative, "." for the root
	Tree  plumbing.Hash // git tree hash of the directory, subdirectories included
	Files []tfFile
}

// treeScan is the Terraform directories under one git tree, with paths
// relative to it. Scans are memoised by tree hash, so two commits that share
// most of their trees are walked once.
type treeScan struct {
	dirs []tfDir
}

// snapshot is a repository at one commit, reduced to what change detection
// needs: its Terraform directories.
type snapshot struct {
	repo   *Repo
	commit *object.Commit
	root   *object.Tree
	dirs   map[string]*tfDir
	paths  []string // keys of dirs, sorted
}

func (r *Repo) snapshot(c *object.Commit) (*snapshot, error) {
	root, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", short(c.Hash), err)
	}
	scan, err := r.scanTree(root.Hash)
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", short(c.Hash), err)
	}
	s := &snapshot{repo: r, commit: c, root: root, dirs: make(map[string]*tfDir, len(scan.dirs))}
	for i := range scan.dirs {
		d := &scan.dirs[i]
		s.dirs[d.Path] = d
		s.paths = append(s.paths, d.Path)
	}
	sort.Strings(s.paths)
	return s, nil
}

// scanTree walks a tree, skipping hidden directories (.git, .terraform, …),
// and collects the directories that hold Terraform files.
func (r *Repo) scanTree(h plumbing.Hash) (*treeScan, error) {
	if s, ok := r.trees[h]; ok {
		return s, nil
	}
	t, err := object.GetTree(r.git.Storer, h)
	if err != nil {
		return nil, err
	}
	scan := &treeScan{}
	var own []tfFile
	for _, e := range t.Entries {
		switch {
		case e.Mode == filemode.Dir:
			if strings.HasPrefix(e.Name, ".") {
				continue
			}
			sub, err := r.scanTree(e.Hash)
			if err != nil {
				return nil, err
			}
			for _, d := range sub.dirs {
				p := e.Name
				if d.Path != "." {
					p = e.Name + "/" + d.Path
				}
				scan.dirs = append(scan.dirs, tfDir{Path: p, Tree: d.Tree, Files: d.Files})
			}
		case e.Mode.IsFile() && isTerraformFile(e.Name):
			own = append(own, tfFile{Name: e.Name, Blob: e.Hash})
		}
	}
	if len(own) > 0 {
		scan.dirs = append(scan.dirs, tfDir{Path: ".", Tree: h, Files: own})
	}
	r.trees[h] = scan
	return scan, nil
}

func isTerraformFile(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// readFile returns the content of a file at the snapshot's commit; ok is
// false when there is no such file.
func (s *snapshot) readFile(p string) (data []byte, ok bool, err error) {
	f, err := s.root.File(p)
	if err == object.ErrFileNotFound || err == object.ErrDirectoryNotFound || err == object.ErrEntryNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s at %s: %w", p, short(s.commit.Hash), err)
	}
	data, err = readBlob(s.repo, f.Hash)
	if err != nil {
		return nil, false, fmt.Errorf("read %s at %s: %w", p, short(s.commit.Hash), err)
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

// isDir reports whether p is a directory at the snapshot's commit.
func (s *snapshot) isDir(p string) bool {
	if p == "." {
		return true
	}
	_, err := s.root.Tree(p)
	return err == nil
}

// treeHash returns the git tree hash of directory p, or "" when absent.
func (s *snapshot) treeHash(p string) string {
	if d, ok := s.dirs[p]; ok {
		return d.Tree.String()
	}
	if p == "." {
		return s.root.Hash.String()
	}
	t, err := s.root.Tree(p)
	if err != nil {
		return ""
	}
	return t.Hash.String()
}

// ownerDir returns the deepest Terraform directory of dirs that contains
// the file at p, or "" when none does.
func ownerDir(p string, isTF func(string) bool) string {
	for d := path.Dir(p); ; d = path.Dir(d) {
		if isTF(d) {
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
