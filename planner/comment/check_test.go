package comment

import (
	"regexp"
	"strings"
	"testing"

	"github.com/strata-iac/strata/planner"
)

// checkBodies asserts what must hold of every rendered comment: each body
// within the limit and opening with its marker, every stack in the table,
// code blocks and <details> closed in the body that opens them, and the
// next step last.
func checkBodies(t *testing.T, s planner.Summary, opt Options, bodies []string) {
	t.Helper()
	if len(bodies) == 0 {
		t.Fatal("no bodies")
	}
	for i, b := range bodies {
		if opt.MaxSize > 0 && len(b) > opt.MaxSize {
			t.Errorf("body %d of %d is %d bytes, limit %d", i+1, len(bodies), len(b), opt.MaxSize)
		}
		if m := PartMarker(opt.Marker, i+1); !strings.HasPrefix(b, m+"\n") {
			t.Errorf("body %d does not start with %q: %.80q", i+1, m, b)
		}
		if err := structure(b); err != "" {
			t.Errorf("body %d: %s", i+1, err)
		}
	}
	rows := tableRows(bodies)
	for _, r := range s.Stacks {
		if !rows[stackName(r, codeSpan)] {
			t.Errorf("stack %s missing from the table", r.Dir)
		}
	}
	if len(rows) != len(s.Stacks) {
		t.Errorf("table has %d rows, summary %d stacks", len(rows), len(s.Stacks))
	}
	if last := bodies[len(bodies)-1]; !strings.Contains(last, "**Next:**") {
		t.Errorf("last body has no next step")
	}
}

var rowStack = regexp.MustCompile(`^\| (.+?) \| \S+ `)

// tableRows collects the stacks named by the summary table's rows.
func tableRows(bodies []string) map[string]bool {
	rows := map[string]bool{}
	for _, b := range bodies {
		for _, l := range tableLines(b) {
			if m := rowStack.FindStringSubmatch(l); m != nil {
				rows[strings.ReplaceAll(m[1], `\|`, "|")] = true
			}
		}
	}
	return rows
}

// tableLines are the rows of the summary table in body, without its
// header and delimiter rows.
func tableLines(body string) []string {
	var rows []string
	in := false
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "| Stack |"):
			in = true
		case l == "":
			in = false
		case in && !strings.HasPrefix(l, "| :--"):
			rows = append(rows, l)
		}
	}
	return rows
}

var fenceLine = regexp.MustCompile("^((?:> )?)(`{3,})")

// structure reports a code block or <details> left open in body, or a
// </details> outside a code block that closes nothing: markdown that would
// swallow or break what follows.
func structure(body string) string {
	open, prefix, depth := "", "", 0
	for _, l := range strings.Split(body, "\n") {
		if open != "" {
			if strings.TrimRight(l, " ") == prefix+open || strings.TrimRight(l, " ") == strings.TrimRight(prefix, " ")+open {
				open = ""
			}
			continue
		}
		if m := fenceLine.FindStringSubmatch(l); m != nil {
			prefix, open = m[1], m[2]
			continue
		}
		l = stripCodeSpans(l)
		depth += strings.Count(l, "<details")
		depth -= strings.Count(l, "</details>")
		if depth < 0 {
			return "</details> closes nothing: " + l
		}
	}
	if open != "" {
		return "code block left open"
	}
	if depth != 0 {
		return "<details> left open"
	}
	return ""
}

// stripCodeSpans removes inline code: a run of backticks up to the next
// run of the same length.
func stripCodeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := longestRun(s[i:i+len(s[i:])-len(strings.TrimLeft(s[i:], "`"))], '`')
		rest := s[i+n:]
		end := -1
		for j := 0; j < len(rest); {
			if rest[j] != '`' {
				j++
				continue
			}
			m := len(rest[j:]) - len(strings.TrimLeft(rest[j:], "`"))
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		i += n + end + n
	}
	return b.String()
}
