package stacks

import (
	"fmt"
	"path"
	"sort"
)

// detector applies the rules of "Which stacks a change touches" (README.md)
// to the changes between one merge base and head.
type detector struct {
	head     *Analysis
	base     *Analysis // nil when the merge base cannot be analysed
	baseSnap *snapshot

	changed map[string]bool     // every changed path
	ownerOf map[string]string   // changed path -> the directory it is credited to
	own     map[string][]string // directory -> the changed paths credited to it
	linked  map[string][]string // directory -> changed paths it reads through a symlink, described

	reasons      map[string][]string
	deleted      []string
	becameModule []string
	warnings     []string
}

func (d *detector) add(dir, reason string) {
	d.reasons[dir] = append(d.reasons[dir], reason)
}

// attribute credits each changed path to the deepest directory holding
// Terraform that contains it (or to the submodule it is), in the tree at
// head when the path exists there, else in the tree at the merge base (so
// the files of a deleted directory are not blamed on its parent, and a file
// left behind by a deleted nested stack is its parent's). Then it credits
// a changed path to every directory that reads it through a symlink.
func (d *detector) attribute(paths []changedPath) {
	d.changed = make(map[string]bool, len(paths))
	d.ownerOf = make(map[string]string, len(paths))
	d.own = map[string][]string{}
	d.linked = map[string][]string{}
	baseOwns := func(dir string) bool {
		if d.base != nil {
			return d.base.owns(dir)
		}
		t, ok := d.baseSnap.dirs[dir]
		return ok && !t.Hidden
	}
	for _, c := range paths {
		d.changed[c.Path] = true
		owns := baseOwns
		if c.AtHead {
			owns = d.head.owns
		}
		o := c.Path
		if !owns(o) {
			o = ownerDir(c.Path, owns)
		}
		if o != "" {
			d.ownerOf[c.Path] = o
			d.own[o] = append(d.own[o], c.Path)
		}
	}
	if len(d.head.linkDeps) == 0 {
		return
	}
	byTarget := map[string][]linkDep{}
	for _, ld := range d.head.linkDeps {
		byTarget[ld.Target] = append(byTarget[ld.Target], ld)
	}
	for _, c := range paths {
		for p := c.Path; ; p = path.Dir(p) {
			for _, ld := range byTarget[p] {
				if d.ownerOf[c.Path] != ld.Owner {
					d.linked[ld.Owner] = append(d.linked[ld.Owner], quotePath(c.Path)+" (linked from "+quotePath(ld.Link)+")")
				}
			}
			if p == "." {
				break
			}
		}
	}
}

// touched lists what changed in a directory: its own paths, and those it
// reads through symlinks.
func (d *detector) touched(dir string) []string {
	out := make([]string, 0, len(d.own[dir])+len(d.linked[dir]))
	for _, p := range d.own[dir] {
		out = append(out, quotePath(p))
	}
	return append(out, d.linked[dir]...)
}

// Rule 1: a changed path in the stack's own directory, not in a nested
// stack, unless ignore_changes matches it; or a path the stack's files
// read through a symlink.
func (d *detector) ruleOwnFiles() {
	for _, s := range d.head.Stacks {
		ignore := d.head.Config.IgnoreChangesFor(s.Dir)
		for _, p := range d.own[s.Dir] {
			if !matchAny(ignore, relTo(s.Dir, p)) {
				d.add(s.Dir, "changed "+quotePath(p))
			}
		}
		for _, l := range d.linked[s.Dir] {
			d.add(s.Dir, "changed "+l)
		}
	}
}

// A stack that was a Terraform directory but no stack at the merge base
// (a module, or ignored) has never been planned on its own.
func (d *detector) ruleBecameStack() {
	if d.base == nil {
		return
	}
	for _, s := range d.head.Stacks {
		t, ok := d.baseSnap.dirs[s.Dir]
		if !ok || t.Hidden || d.base.Stack(s.Dir) != nil {
			continue
		}
		if d.base.isCalled(s.Dir) {
			d.add(s.Dir, "became a stack: no module calls it any more")
		} else {
			d.add(s.Dir, "became a stack: it was not one at the merge base")
		}
	}
}

// Rule 2: a changed path in a local module the stack calls, at any depth,
// or a symlink on the way to one.
func (d *detector) ruleModules() {
	for _, s := range d.head.Stacks {
		c := d.head.closure[s.Dir]
		for _, m := range c.Modules {
			if ps := d.touched(m); len(ps) > 0 {
				d.add(s.Dir, fmt.Sprintf("module %s changed (%s)", m, firstAndCount(ps)))
			}
		}
		for _, l := range c.Links {
			if d.changed[l] {
				d.add(s.Dir, fmt.Sprintf("symlink %s changed (a module source goes through it)", quotePath(l)))
			}
		}
	}
}

// Rule 3: a changed path matches one of the stack's watch globs.
func (d *detector) ruleWatch(paths []changedPath) {
	for _, s := range d.head.Stacks {
		sc := d.head.Config.Stack(s.Dir)
		if sc == nil || len(sc.Watch) == 0 {
			continue
		}
		for _, c := range paths {
			if matchAny(sc.Watch, c.Path) {
				d.add(s.Dir, "changed "+quotePath(c.Path)+" (watched)")
			}
		}
	}
}

// Rule 4: the stack's entry in strata.yaml changed.
func (d *detector) ruleConfig() {
	var baseCfg *Config
	if d.base != nil {
		baseCfg = d.base.Config
	} else {
		var err error
		if baseCfg, err = loadConfig(d.baseSnap); err != nil {
			d.warnings = append(d.warnings, fmt.Sprintf("cannot read strata.yaml at the merge base (%v); every stack it lists is treated as changed", err))
			baseCfg = DefaultConfig()
		}
	}
	for _, s := range d.head.Stacks {
		before, after := baseCfg.Stack(s.Dir), d.head.Config.Stack(s.Dir)
		switch {
		case sameStackEntry(before, after):
		case before == nil:
			d.add(s.Dir, ConfigFile+" entry added")
		case after == nil:
			d.add(s.Dir, ConfigFile+" entry removed")
		default:
			d.add(s.Dir, ConfigFile+" entry changed")
		}
	}
}

// A stack that is, or calls, a directory whose HCL does not parse might
// call any module: it is affected whenever a local module changed.
func (d *detector) ruleUnparsed() {
	if len(d.head.unparsed) == 0 {
		return
	}
	var dirs []string
	for dir := range d.own {
		dirs = append(dirs, dir)
	}
	for dir := range d.linked {
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	moduleChanged := ""
	for _, dir := range dirs {
		if d.head.Stack(dir) == nil {
			moduleChanged = dir
			break
		}
	}
	if moduleChanged == "" {
		return
	}
	for _, s := range d.head.Stacks {
		for _, dir := range append([]string{s.Dir}, d.head.closure[s.Dir].Modules...) {
			if _, bad := d.head.unparsed[dir]; bad {
				d.add(s.Dir, fmt.Sprintf("might call changed module %s: %s does not parse", moduleChanged, dir))
				break
			}
		}
	}
}

// goneStacks lists the stacks of the merge base that are no stacks at
// head: deleted when their directory holds no Terraform any more (reported,
// never planned), modules when another module calls them now.
func (d *detector) goneStacks() {
	if d.base == nil {
		return
	}
	for _, s := range d.base.Stacks {
		p := s.Dir
		switch {
		case d.head.Stack(p) != nil:
		case d.head.snap.dirs[p] == nil:
			d.deleted = append(d.deleted, p)
		case d.head.isCalled(p):
			d.becameModule = append(d.becameModule, p)
			d.warnings = append(d.warnings, fmt.Sprintf("%s was a stack at the merge base and is a module now, called by %s: strata no longer plans it on its own, and its state still exists; destroy what it manages, or move it into the calling stack's state (moved blocks or terraform state mv)", p, firstAndCount(uniqueSorted(d.head.callersOf(p)))))
		default:
			d.warnings = append(d.warnings, fmt.Sprintf("%s was a stack at the merge base and matches an ignore glob now: strata no longer plans it, and its state still exists", p))
		}
	}
}

func uniqueSorted(ss []string) []string {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return sortedKeys(m)
}
