package tf

import (
	"regexp"
	"strings"
)

// Diagnostic is an error or warning Terraform reported.
type Diagnostic struct {
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Range is "file:line" relative to the stack, when Terraform gave one.
	Range string `json:"range,omitempty"`
}

// Commands without -json (workspace select, show, init before Terraform
// 1.9 and OpenTofu 1.7) print diagnostics, with -no-color, as
//
//	Error: <summary>
//
//	  [with <resource address>,]
//	  on <file> line <n>[, in <context>]:
//	   <n>: <source line>
//
//	<detail, wrapped, possibly several paragraphs>
//
// errors on stderr and warnings on stdout, after the plan or apply output.
var (
	diagStartRe = regexp.MustCompile(`^(Error|Warning): (.*)$`)
	diagRangeRe = regexp.MustCompile(`^  on (.+?) line (\d+)(?:, in .*)?:$`)
	diagWithRe  = regexp.MustCompile(`^  with .*,$`)
)

// SplitDiagnostics separates terraform's diagnostics from the rest of text.
// A diagnostic runs from its "Error:"/"Warning:" line to the next one or to
// the end of text, so diagnostics must come last, as they do on stderr and
// at the end of plan and apply output; init's closing line is removed by the
// caller first.
func SplitDiagnostics(text string) (rest string, diags []Diagnostic) {
	lines := strings.Split(text, "\n")
	start := len(lines)
	for i, l := range lines {
		if diagStartRe.MatchString(l) {
			start = i
			break
		}
	}
	var cur []string
	for _, l := range lines[start:] {
		if diagStartRe.MatchString(l) && cur != nil {
			diags = append(diags, parseDiagnostic(cur))
			cur = nil
		}
		cur = append(cur, l)
	}
	if cur != nil {
		diags = append(diags, parseDiagnostic(cur))
	}
	return strings.Join(lines[:start], "\n"), diags
}

// parseDiagnostic reads one diagnostic's lines, the first being its
// "Error:"/"Warning:" line.
func parseDiagnostic(lines []string) Diagnostic {
	m := diagStartRe.FindStringSubmatch(lines[0])
	d := Diagnostic{Severity: strings.ToLower(m[1]), Summary: strings.TrimSpace(m[2])}
	// A summary is one line, but some (init's) hold line breaks.
	i := 1
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		d.Summary += " " + strings.TrimSpace(lines[i])
	}
	i = skipBlank(lines, i)
	if i+1 < len(lines) && diagWithRe.MatchString(lines[i]) && diagRangeRe.MatchString(lines[i+1]) {
		i++
	}
	if i < len(lines) {
		if r := diagRangeRe.FindStringSubmatch(lines[i]); r != nil {
			d.Range = r[1] + ":" + r[2]
			// The source snippet (and any expression values under
			// it) is indented and ends at a blank line.
			i++
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				i++
			}
			i = skipBlank(lines, i)
		}
	}
	d.Detail = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	return d
}

func skipBlank(lines []string, i int) int {
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return i
}

// ErrorLine sums up the first error (one with a source range preferred,
// since terraform often opens with a generic one) as "file:line: summary:
// first sentence of the detail".
func ErrorLine(diags []Diagnostic) string {
	var first *Diagnostic
	for i := range diags {
		d := &diags[i]
		if d.Severity != "error" {
			continue
		}
		if first == nil {
			first = d
		}
		if d.Range != "" {
			first = d
			break
		}
	}
	if first == nil {
		return ""
	}
	s := first.Summary
	if first.Range != "" {
		s = first.Range + ": " + s
	}
	if sentence := firstSentence(first.Detail); sentence != "" {
		s += ": " + sentence
	}
	return s
}

// firstSentence returns the first sentence of a wrapped paragraph, on one
// line and at most 200 characters long.
func firstSentence(detail string) string {
	para, _, _ := strings.Cut(detail, "\n\n")
	s := strings.Join(strings.Fields(para), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:197]) + "..."
	}
	return s
}
