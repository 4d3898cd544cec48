package stacks

import (
	"path"
	"sort"
	"strings"
)

// maxLinkHops bounds the symlinks followed to resolve one path, as the
// operating system does (ELOOP).
const maxLinkHops = 40

// resolution is where a repo-relative path leads once symlinks are
// followed the way the operating system follows them when Terraform reads
// the path from a checkout.
type resolution struct {
	Path    string   // the real path, "." for the root
	Links   []string // the symlinks followed on the way, in order
	Gitlink bool     // Path is a submodule the path lies in; strata cannot see inside it
	Outside bool     // a symlink leads out of the repository
	Loop    bool     // too many symlinks: a cycle
}

// resolve follows the symlinks on the path p (clean, repo-relative), in
// every component, the last one included.
func (s *snapshot) resolve(p string) resolution {
	var res resolution
	if len(s.links) == 0 && len(s.gitlinks) == 0 {
		res.Path = p
		return res
	}
	done := "" // the real directory reached so far; "" is the root
	parts := splitPath(p)
	for len(parts) > 0 {
		name := parts[0]
		parts = parts[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if done == "" {
				res.Outside = true
				return res
			}
			done = parentOf(done)
			continue
		}
		cand := name
		if done != "" {
			cand = done + "/" + name
		}
		if _, ok := s.gitlinks[cand]; ok {
			res.Path, res.Gitlink = cand, true
			return res
		}
		target, ok := s.links[cand]
		if !ok {
			done = cand
			continue
		}
		res.Links = append(res.Links, cand)
		if len(res.Links) > maxLinkHops {
			res.Loop = true
			return res
		}
		if strings.HasPrefix(target, "/") {
			res.Outside = true
			return res
		}
		parts = append(splitPath(target), parts...)
	}
	res.Path = done
	if res.Path == "" {
		res.Path = "."
	}
	return res
}

func splitPath(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func parentOf(dir string) string {
	if d := path.Dir(dir); d != "." {
		return d
	}
	return ""
}

// linkDep is a symlink inside a Terraform directory (or inside a directory
// one links to): Terraform reads through it, so the directory depends on
// what it leads to.
type linkDep struct {
	Owner  string // the directory whose code reads through the link
	Link   string
	Target string // a real path it leads to (or a link on the way), file or directory
}

// findLinkDeps lists the symlinks every directory changes are credited to
// reads through, following links inside linked directories too. A link
// that leaves the repository is not followed, with a warning.
func (a *Analysis) findLinkDeps() {
	if len(a.snap.links) == 0 {
		return
	}
	all := sortedKeys(a.snap.links)
	for _, l := range all {
		o := ownerDir(l, a.owns)
		if o == "" {
			continue
		}
		todo := []string{l}
		seen := map[string]bool{}
		for len(todo) > 0 {
			link := todo[0]
			todo = todo[1:]
			if seen[link] {
				continue
			}
			seen[link] = true
			res := a.snap.resolve(link)
			if res.Outside || res.Loop {
				if !a.readsAsTerraform(link) {
					a.warnf("%s: symlink to %q leaves the repository or loops; strata does not follow it", link, a.snap.links[link])
				}
				continue
			}
			a.linkDeps = append(a.linkDeps, linkDep{Owner: o, Link: link, Target: res.Path})
			for _, via := range res.Links[1:] {
				a.linkDeps = append(a.linkDeps, linkDep{Owner: o, Link: link, Target: via})
			}
			i := 0
			if res.Path != "." {
				i = sort.SearchStrings(all, res.Path+"/")
			}
			for ; i < len(all) && within(all[i], res.Path); i++ {
				todo = append(todo, all[i])
			}
		}
	}
}

// readsAsTerraform reports whether a symlink is a Terraform file of a
// directory whose files strata read: callsOf reports its problems.
func (a *Analysis) readsAsTerraform(link string) bool {
	d, ok := a.snap.dirs[path.Dir(link)]
	return ok && d.read && isTerraformFile(path.Base(link))
}
