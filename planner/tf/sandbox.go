package tf

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// SandboxMode says whether terraform runs in a sandbox: required (refuse
// to run without one), auto (sandbox where possible) or off.
type SandboxMode string

// Sandbox modes (README.md, Security).
const (
	SandboxRequired SandboxMode = "required"
	SandboxAuto     SandboxMode = "auto"
	SandboxOff      SandboxMode = "off"
)

// ParseSandboxMode checks a --sandbox value.
func ParseSandboxMode(s string) (SandboxMode, error) {
	switch m := SandboxMode(s); m {
	case SandboxRequired, SandboxAuto, SandboxOff:
		return m, nil
	}
	return "", fmt.Errorf("--sandbox %q: want required, auto or off", s)
}

// NewSandbox returns the sandbox every terraform process runs in, after
// checking once that one can be made here. Mode off returns nil. When no
// sandbox can be made the error says why and how to enable one (install
// bubblewrap, allow unprivileged user namespaces); the caller refuses to
// go on (mode required) or says so and runs terraform unsandboxed (auto).
func NewSandbox(ctx context.Context, mode SandboxMode) (*Sandbox, error) {
	if mode == SandboxOff {
		return nil, nil
	}
	s, err := probeSandbox(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot sandbox terraform: %w", err)
	}
	return s, nil
}

// Mounts are what a sandboxed command sees of the filesystem besides the
// system directories (sandbox_linux.go): absolute paths, each shown at
// the same path. ReadOnly and ReadWrite paths must exist; Optional ones
// (read-only) are left out when they do not.
type Mounts struct {
	ReadOnly, ReadWrite, Optional []string
}

// With returns m with more paths; m itself is not changed.
func (m Mounts) With(more Mounts) Mounts {
	return Mounts{
		ReadOnly:  append(append([]string(nil), m.ReadOnly...), more.ReadOnly...),
		ReadWrite: append(append([]string(nil), m.ReadWrite...), more.ReadWrite...),
		Optional:  append(append([]string(nil), m.Optional...), more.Optional...),
	}
}

// mountMode is how a path is shown; a path listed twice gets the widest.
type mountMode int

const (
	mountOptional mountMode = iota
	mountReadOnly
	mountReadWrite
)

type mount struct {
	path string
	mode mountMode
}

// list returns m's paths once each, cleaned, sorted so that a directory
// comes before what is mounted inside it. Relative paths and paths under
// /proc and /dev, which the sandbox makes itself, are left out.
func (m Mounts) list() []mount {
	modes := map[string]mountMode{}
	add := func(paths []string, mode mountMode) {
		for _, p := range paths {
			p = filepath.Clean(p)
			if !filepath.IsAbs(p) || p == "/" || under(p, "/proc") || under(p, "/dev") {
				continue
			}
			if old, ok := modes[p]; !ok || mode > old {
				modes[p] = mode
			}
		}
	}
	add(m.Optional, mountOptional)
	add(m.ReadOnly, mountReadOnly)
	add(m.ReadWrite, mountReadWrite)
	out := make([]mount, 0, len(modes))
	for p, mode := range modes {
		out = append(out, mount{p, mode})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
