package redact

import (
	"slices"
	"sort"
)

// span is a range of a text to mask: [start, end).
type span struct{ start, end int }

// text is what the scanner reads.
type text interface{ ~string | ~[]byte }

// skipper walks a text the way the skeleton sees it: whitespace, line
// breaks (raw, or escaped once or twice as \n, \r, \t) and, after a line
// break, gutter
// characters are skipped; everything else is a unit, one byte or a
// two-byte backslash escape, fed to the automaton byte by byte.
type skipper struct{ afterBreak bool }

// special marks the bytes skip must look at: whitespace, line breaks and
// the backslash of escapes.
var special = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, '\\': true}

// skip returns how many bytes at t[i] the skeleton leaves out (0: none).
func skip[T text](sk *skipper, t T, i int) int {
	c := t[i]
	switch c {
	case ' ', '\t':
		return 1
	case '\n', '\r':
		sk.afterBreak = true
		return 1
	case '\\':
		// \n, and \\n as JSON writes a text that holds \n.
		j := i + 1
		if j+1 < len(t) && t[j] == '\\' {
			j++
		}
		if j < len(t) {
			switch t[j] {
			case 'n', 'r':
				sk.afterBreak = true
				return j + 1 - i
			case 't':
				return j + 1 - i
			}
		}
	}
	if sk.afterBreak {
		if w := gutter(t, i); w > 0 && i+w < len(t) && (t[i+w] == ' ' || t[i+w] == '\t') {
			return w
		}
		sk.afterBreak = false
	}
	return 0
}

// unitWidth is 2 for a backslash escape (a backslash and the byte after
// it, unless that is whitespace), else 1: an escape is masked whole or not
// at all, so masking never leaves half of one.
func unitWidth[T text](t T, i int) int {
	if t[i] == '\\' && i+1 < len(t) {
		switch t[i+1] {
		case ' ', '\t', '\n', '\r':
		default:
			return 2
		}
	}
	return 1
}

// gutter is the width of the gutter character at t[i], 0 when there is
// none: what Terraform starts a wrapped line with (diff markers, quote
// and box-drawing characters U+2500–U+257F). It counts as a gutter only
// when whitespace follows, as Terraform writes them; otherwise it may
// well be part of a secret that goes on on that line.
func gutter[T text](t T, i int) int {
	switch t[i] {
	case '+', '-', '~', '>', '|', '*', '#':
		return 1
	case 0xE2:
		if i+2 < len(t) && (t[i+1] == 0x94 || t[i+1] == 0x95) && t[i+2] >= 0x80 && t[i+2] <= 0xBF {
			return 3
		}
	case '\\':
		// > as JSON escapes it, HTML-safe.
		if i+5 < len(t) && string(t[i:i+6]) == `\u003e` {
			return 6
		}
	}
	return 0
}

// skeleton reduces s as the scanner reduces texts, dropping leading gutter
// characters too (a secret may start a line).
func skeleton(s string) string {
	sk := skipper{afterBreak: true}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if w := skip(&sk, s, i); w > 0 {
			i += w
			continue
		}
		width := unitWidth(s, i)
		out = append(out, s[i:i+width]...)
		i += width
	}
	return string(out)
}

// build makes the automaton for the skeletons of every variant of r's
// secrets.
func (r *Redactor) build() {
	var patterns []string
	seen := map[string]bool{}
	for _, s := range r.secrets {
		for _, v := range variants(s) {
			if p := skeleton(v); len(p) >= minExplicit && !seen[p] {
				seen[p] = true
				patterns = append(patterns, p)
			}
		}
	}
	if len(patterns) == 0 {
		return
	}
	// The trie, as a full transition table sized for the worst case (no
	// shared prefix); 0 is the root and -1 "none".
	states := 1
	for _, p := range patterns {
		states += len(p)
	}
	r.next = make([]int32, states*256)
	for i := range r.next {
		r.next[i] = -1
	}
	r.out = make([]int32, 1, states)
	longest := 0
	for _, p := range patterns {
		longest = max(longest, len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			at := int(s)<<8 | int(p[i])
			if r.next[at] < 0 {
				r.next[at] = int32(len(r.out))
				r.out = append(r.out, 0)
			}
			s = r.next[at]
		}
		r.out[s] = max(r.out[s], int32(len(p)))
	}
	r.next = slices.Clone(r.next[:len(r.out)*256])
	// Breadth first, complete the table with failure transitions and
	// inherit the outputs of the failure state.
	fail := make([]int32, len(r.out))
	var queue []int32
	for c := range 256 {
		if t := r.next[c]; t < 0 {
			r.next[c] = 0
		} else {
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		r.out[s] = max(r.out[s], r.out[fail[s]])
		for c := range 256 {
			at := int(s)<<8 | c
			if t := r.next[at]; t < 0 {
				r.next[at] = r.next[int(fail[s])<<8|c]
			} else {
				fail[t] = r.next[int(fail[s])<<8|c]
				queue = append(queue, t)
			}
		}
	}
	r.window = 1
	for r.window < longest {
		r.window <<= 1
	}
}

// spansOf returns the merged, sorted ranges of t that hold a secret.
func spansOf[T text](r *Redactor, t T) []span {
	if r == nil || len(r.next) == 0 {
		return nil
	}
	mask := r.window - 1
	starts := make([]int, r.window)
	var found []span
	var sk skipper
	state, k := int32(0), 0
	next, out := r.next, r.out
	for i := 0; i < len(t); {
		if c := t[i]; !special[c] && !sk.afterBreak {
			// The common case, inlined: an ordinary byte.
			starts[k&mask] = i
			k++
			state = next[int(state)<<8|int(c)]
			if n := int(out[state]); n > 0 {
				found = append(found, span{starts[(k-n)&mask], i + 1})
			}
			i++
			continue
		}
		if w := skip(&sk, t, i); w > 0 {
			i += w
			continue
		}
		width := unitWidth(t, i)
		for j := range width {
			starts[k&mask] = i
			k++
			state = next[int(state)<<8|int(t[i+j])]
			if n := int(out[state]); n > 0 {
				found = append(found, span{starts[(k-n)&mask], i + width})
			}
		}
		i += width
	}
	return merge(found)
}

// merge sorts spans and joins those that overlap or touch.
func merge(sp []span) []span {
	if len(sp) < 2 {
		return sp
	}
	sort.Slice(sp, func(i, j int) bool { return sp[i].start < sp[j].start })
	out := sp[:1]
	for _, x := range sp[1:] {
		last := &out[len(out)-1]
		if x.start <= last.end {
			last.end = max(last.end, x.end)
			continue
		}
		out = append(out, x)
	}
	return out
}
