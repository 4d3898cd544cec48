package schemes

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Registry holds the openers of one kind of thing (lockers, stores).
type Registry[O any] struct {
	kind  string   // "lock", "store": names the registry in panics
	local string   // the built-in form, e.g. "file://PATH or PATH (local directory)"
	built []string // schemes handled by the package itself

	mu      sync.Mutex
	openers map[string]O
	forms   map[string]string
}

// New returns an empty registry. builtIn are the schemes the owning package
// handles itself; localForm describes them for messages.
func New[O any](kind, localForm string, builtIn ...string) *Registry[O] {
	return &Registry[O]{kind: kind, local: localForm, built: builtIn, openers: map[string]O{}, forms: map[string]string{}}
}

// Register adds scheme; form describes its URL, e.g. "s3://BUCKET/PREFIX
// (S3)". Registering a scheme twice is a programming error and panics.
func (r *Registry[O]) Register(scheme, form string, open O) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.openers[scheme]; dup || slices.Contains(r.built, scheme) {
		panic(fmt.Sprintf("%s: scheme registered twice: %s", r.kind, scheme))
	}
	r.openers[scheme] = open
	r.forms[scheme] = form
}

// Lookup returns the opener of scheme.
func (r *Registry[O]) Lookup(scheme string) (O, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.openers[scheme]
	return o, ok
}

// Forms lists every accepted URL form, the built-in one first.
func (r *Registry[O]) Forms() string {
	r.mu.Lock()
	var forms []string
	for _, f := range r.forms {
		forms = append(forms, f)
	}
	r.mu.Unlock()
	slices.Sort(forms)
	return strings.Join(append([]string{r.local}, forms...), ", or ")
}
