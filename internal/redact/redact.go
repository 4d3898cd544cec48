package redact

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces every secret found in a text.
const Mask = "[redacted]"

// Minimum lengths of the values masked: explicit secrets, and values of
// environment variables whose names look secret.
const (
	minExplicit = 4
	minEnv      = 8
)

// Redactor masks a fixed set of secret values. The zero value and nil
// mask nothing. It is safe for concurrent use.
type Redactor struct {
	secrets []string
	// next is the automaton's transition table, 256 entries per state;
	// out[s] is the length of the longest pattern ending in state s (0:
	// none). window is a power of two at least as long as any pattern.
	next   []int32
	out    []int32
	window int
}

// New returns a Redactor for secrets; values shorter than 4 characters
// (after trimming surrounding whitespace) are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= minExplicit && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	r.build()
	return r
}

// With returns a Redactor that masks r's secrets and more.
func (r *Redactor) With(more ...string) *Redactor {
	if r == nil {
		return New(more...)
	}
	return New(append(slices.Clip(r.secrets), more...)...)
}

// Len is how many secrets r masks.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	return len(r.secrets)
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	sp := r.spans(s)
	if len(sp) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, x := range sp {
		b.WriteString(s[last:x.start])
		b.WriteString(Mask)
		last = x.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// Bytes returns data with every secret masked: data itself when it holds
// none, else a new slice.
func (r *Redactor) Bytes(data []byte) []byte {
	sp := spansOf(r, data)
	if len(sp) == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	last := 0
	for _, x := range sp {
		out = append(out, data[last:x.start]...)
		out = append(out, Mask...)
		last = x.end
	}
	return append(out, data[last:]...)
}

func (r *Redactor) spans(s string) []span { return spansOf(r, s) }

// SecretName reports whether an environment variable's name says its value
// is a secret: *_TOKEN, TF_TOKEN_*, *SECRET*, *_PASSWORD, *_PASSWD (any
// case), but not names of files or directories (*_FILE, *_PATH, *_DIR),
// whose values are paths.
func SecretName(name string) bool {
	n := strings.ToUpper(name)
	for _, suffix := range []string{"_FILE", "_PATH", "_DIR"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	return strings.HasSuffix(n, "_TOKEN") || strings.HasPrefix(n, "TF_TOKEN_") ||
		strings.Contains(n, "SECRET") || strings.HasSuffix(n, "_PASSWORD") || strings.HasSuffix(n, "_PASSWD")
}

// EnvSecrets returns the values of the variables of env (KEY=VALUE
// entries) whose names look secret (SecretName), when they are at least 8
// characters long.
func EnvSecrets(env []string) []string {
	var out []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && SecretName(k) && len(strings.TrimSpace(v)) >= minEnv {
			out = append(out, v)
		}
	}
	return out
}

// variants are the spellings of s that texts strata writes may hold: as
// it is, as JSON writes it (with and without HTML escaping), as Terraform
// quotes it, and URL-encoded.
func variants(s string) []string {
	out := []string{s}
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if j, err := json.Marshal(s); err == nil {
		add(string(j[1 : len(j)-1]))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		j := strings.TrimSuffix(b.String(), "\n")
		add(j[1 : len(j)-1])
	}
	add(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", "$${", "%{", "%%{").Replace(s))
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	return out
}
