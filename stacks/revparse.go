package stacks

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// refRules is the order in which git expands a short ref name
// (gitrevisions(7)): the first that names an existing ref wins.
var refRules = []string{"%s", "refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"}

// minAbbrev is the fewest hex digits git reads as an abbreviated SHA.
const minAbbrev = 4

// Resolve finds the commit a ref names, reading it as git rev-parse does:
// a full SHA; else a ref (HEAD, a branch, a tag, a remote branch such as
// origin/main, or a full refname), in gitrevisions(7) order; else the
// output of git describe; else an abbreviated SHA of at least four digits,
// which must name one commit. Suffixes ~N, ^N, ^{}, ^{commit} and ^{tag}
// follow, in any number.
func (r *Repo) Resolve(ref string) (*object.Commit, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("empty ref: name a branch, tag or commit")
	}
	name, ops, err := splitRevision(ref)
	if err != nil {
		return nil, err
	}
	h, err := r.resolveName(ref, name)
	if err != nil {
		return nil, r.explain(err)
	}
	c, err := r.applyRevOps(ref, h, ops)
	return c, r.explain(err)
}

// splitRevision splits a revision into the name it starts with and the
// suffixes that follow, which start at the first ~ or ^ (neither can be
// part of a ref name).
func splitRevision(ref string) (string, string, error) {
	i := strings.IndexAny(ref, "~^")
	if i < 0 {
		i = len(ref)
	}
	name, ops := ref[:i], ref[i:]
	if name == "@" {
		name = "HEAD"
	}
	if name == "" || strings.Contains(name, "@{") || strings.Contains(name, ":") {
		return "", "", fmt.Errorf("unsupported ref %q: name a branch, tag or commit, optionally followed by ~N, ^N or ^{}", ref)
	}
	return name, ops, nil
}

// resolveName finds the object a name without suffixes denotes.
func (r *Repo) resolveName(ref, name string) (plumbing.Hash, error) {
	if len(name) == 2*len(plumbing.ZeroHash) && isHex(name) {
		h := plumbing.NewHash(strings.ToLower(name))
		if _, err := r.git.Storer.EncodedObject(plumbing.AnyObject, h); err != nil {
			return h, r.unknownRef(ref, err)
		}
		return h, nil
	}
	if validRefName(name) {
		for _, rule := range refRules {
			full := fmt.Sprintf(rule, name)
			if rule == "%s" && full != "HEAD" && !strings.HasPrefix(full, "refs/") && !isPseudoRef(full) {
				continue
			}
			if ref, err := r.git.Reference(plumbing.ReferenceName(full), true); err == nil {
				return ref.Hash(), nil
			}
		}
	}
	if name == "HEAD" {
		if _, err := r.git.Head(); errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, fmt.Errorf("the repository at %s has no commits yet; commit the Terraform code first", r.path)
		}
	}
	// git describe output: <tag>-<n>-g<abbreviated sha>.
	if i := strings.LastIndex(name, "-g"); i > 0 && len(name)-i-2 >= minAbbrev && isHex(name[i+2:]) {
		if h, ok, err := r.abbrev(ref, name[i+2:]); ok || err != nil {
			return h, err
		}
	}
	if len(name) >= minAbbrev && isHex(name) {
		if h, ok, err := r.abbrev(ref, name); ok || err != nil {
			return h, err
		}
	}
	return plumbing.ZeroHash, r.unknownRef(ref, nil)
}

func (r *Repo) unknownRef(ref string, cause error) error {
	err := fmt.Errorf("unknown ref %q: not a branch, tag or commit in %s", ref, r.path)
	if cause != nil && errors.Is(cause, plumbing.ErrObjectNotFound) && r.isShallow() {
		return fmt.Errorf("%w; this is a shallow clone: %s", err, unshallowHint)
	}
	return err
}

// abbrev finds the one commit (or tag of a commit) whose SHA starts with
// the hex digits; ok is false when none does.
func (r *Repo) abbrev(ref, digits string) (plumbing.Hash, bool, error) {
	digits = strings.ToLower(digits)
	prefix, err := hex.DecodeString(digits[:len(digits)&^1])
	if err != nil {
		return plumbing.ZeroHash, false, nil
	}
	type prefixer interface {
		HashesWithPrefix([]byte) ([]plumbing.Hash, error)
	}
	p, ok := r.git.Storer.(prefixer)
	if !ok {
		return plumbing.ZeroHash, false, nil
	}
	hashes, err := p.HashesWithPrefix(prefix)
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("look up %q: %w", ref, err)
	}
	var commits []plumbing.Hash
	other := ""
	seen := map[plumbing.Hash]bool{}
	for _, h := range hashes {
		if seen[h] || !strings.HasPrefix(h.String(), digits) {
			continue
		}
		seen[h] = true
		if _, err := r.peelToCommit(h); err == nil {
			commits = append(commits, h)
		} else if o, err := r.git.Storer.EncodedObject(plumbing.AnyObject, h); err == nil {
			other = o.Type().String()
		}
	}
	switch {
	case len(commits) == 1:
		return commits[0], true, nil
	case len(commits) > 1:
		return plumbing.ZeroHash, false, fmt.Errorf("ref %q is ambiguous: %d commits start with %s; give more digits of the SHA", ref, len(commits), digits)
	case other != "" && len(seen) == 1:
		return plumbing.ZeroHash, false, fmt.Errorf("ref %q names a %s, not a commit", ref, other)
	}
	return plumbing.ZeroHash, false, nil
}

// applyRevOps applies the suffixes of a revision to the object h.
func (r *Repo) applyRevOps(ref string, h plumbing.Hash, ops string) (*object.Commit, error) {
	for ops != "" {
		op := ops[0]
		ops = ops[1:]
		if op != '~' && op != '^' {
			return nil, fmt.Errorf("unsupported ref %q: name a branch, tag or commit, optionally followed by ~N, ^N or ^{}", ref)
		}
		if op == '^' && strings.HasPrefix(ops, "{") {
			end := strings.IndexByte(ops, '}')
			if end < 0 {
				return nil, fmt.Errorf("ref %q: unclosed ^{", ref)
			}
			kind := ops[1:end]
			ops = ops[end+1:]
			var err error
			if h, err = r.peel(ref, h, kind); err != nil {
				return nil, err
			}
			continue
		}
		digits := len(ops) - len(strings.TrimLeft(ops, "0123456789"))
		n := 1
		if digits > 0 {
			var err error
			if n, err = strconv.Atoi(ops[:digits]); err != nil {
				return nil, fmt.Errorf("ref %q: %s is not a number of generations", ref, ops[:digits])
			}
			ops = ops[digits:]
		}
		c, err := r.peelToCommit(h)
		if err != nil {
			return nil, r.notCommit(ref, h, err)
		}
		if op == '~' {
			for i := 0; i < n; i++ {
				if c, err = r.parent(ref, c, 1); err != nil {
					return nil, err
				}
			}
		} else if n > 0 {
			if c, err = r.parent(ref, c, n); err != nil {
				return nil, err
			}
		}
		h = c.Hash
	}
	c, err := r.peelToCommit(h)
	if err != nil {
		return nil, r.notCommit(ref, h, err)
	}
	return c, nil
}

// peel applies ^{kind}: "" peels tags, "commit" peels to a commit, "tag"
// and "object" keep the object as it is when it is of that type.
func (r *Repo) peel(ref string, h plumbing.Hash, kind string) (plumbing.Hash, error) {
	switch kind {
	case "", "commit":
		c, err := r.peelToCommit(h)
		if err != nil {
			return h, r.notCommit(ref, h, err)
		}
		return c.Hash, nil
	case "tag":
		if _, err := r.git.TagObject(h); err != nil {
			return h, fmt.Errorf("ref %q: %s is not an annotated tag", ref, short(h))
		}
		return h, nil
	case "object":
		return h, nil
	}
	return h, fmt.Errorf("unsupported ref %q: strata reads ^{}, ^{commit}, ^{tag} and ^{object}", ref)
}

// parent returns the nth parent (from 1) of c; a shallow clone's boundary
// commits have none.
func (r *Repo) parent(ref string, c *object.Commit, n int) (*object.Commit, error) {
	if n > len(c.ParentHashes) || r.isShallow() && r.shallow[c.Hash] {
		err := fmt.Errorf("ref %q: commit %s has no parent %d", ref, short(c.Hash), n)
		if r.isShallow() && r.shallow[c.Hash] {
			return nil, fmt.Errorf("%w; this is a shallow clone: %s", err, unshallowHint)
		}
		return nil, err
	}
	p, err := r.git.CommitObject(c.ParentHashes[n-1])
	if err != nil {
		return nil, fmt.Errorf("ref %q: parent of %s: %w", ref, short(c.Hash), err)
	}
	return p, nil
}

// peelToCommit follows annotated tags to the commit they name.
func (r *Repo) peelToCommit(h plumbing.Hash) (*object.Commit, error) {
	for depth := 0; depth < 32; depth++ {
		o, err := r.git.Storer.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, err
		}
		switch o.Type() {
		case plumbing.CommitObject:
			return object.DecodeCommit(r.git.Storer, o)
		case plumbing.TagObject:
			t, err := object.DecodeTag(r.git.Storer, o)
			if err != nil {
				return nil, err
			}
			h = t.Target
		default:
			return nil, errNotCommit{o.Type()}
		}
	}
	return nil, errors.New("tags nest too deep")
}

type errNotCommit struct{ t plumbing.ObjectType }

func (e errNotCommit) Error() string { return "a " + e.t.String() + ", not a commit" }

func (r *Repo) notCommit(ref string, h plumbing.Hash, err error) error {
	var nc errNotCommit
	if errors.As(err, &nc) {
		return fmt.Errorf("ref %q names %s", ref, nc)
	}
	return fmt.Errorf("ref %q (%s) does not name a commit: %w", ref, short(h), err)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// isPseudoRef reports whether name is spelled like a ref git keeps at the
// top of its directory (FETCH_HEAD, ORIG_HEAD, …).
func isPseudoRef(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return strings.HasSuffix(name, "HEAD")
}

// validRefName applies git check-ref-format's rules (one-level names
// allowed), so that no name git rejects is looked up as a ref.
func validRefName(name string) bool {
	if name == "" || name == "@" || strings.HasSuffix(name, ".") || strings.HasSuffix(name, "/") ||
		strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.Contains(name, "//") ||
		strings.Contains(name, "@{") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
