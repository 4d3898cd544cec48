package comment

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Plan text is shown in a ```diff block. Terraform indents its change
// markers (+, -, ~, -/+, +/-, <=) with the attribute they belong to, and
// both GitHub and GitLab colour diff lines by their first column only, so
// the markers move to column 0 and the indentation that preceded them moves
// behind them: every line keeps its width and the nesting still lines up,
// while additions read green and destroys red at a glance. "~" stays "~":
// it is Terraform's symbol for an in-place update and every reviewer knows
// it, even if neither forge colours it.

var (
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	// heredocOpen: a value that opens a heredoc, e.g. `policy = <<-EOT`.
	heredocOpen = regexp.MustCompile(`<<-?([A-Za-z_][A-Za-z0-9_]*)$`)
)

// markers are Terraform's change markers, longest first.
var markers = []string{"-/+", "+/-", "<=", "+", "-", "~"}

// marker finds the change marker that opens l after its indentation: a
// marker followed by a space or the end of the line. It returns the
// indentation's width and the marker, or "" when l has none.
func marker(l string) (int, string) {
	indent := len(l) - len(strings.TrimLeft(l, " "))
	rest := l[indent:]
	for _, m := range markers {
		if strings.HasPrefix(rest, m) && (len(rest) == len(m) || rest[len(m)] == ' ') {
			return indent, m
		}
	}
	return indent, ""
}

// planPreamble is the legend Terraform (or OpenTofu) prints before every
// plan; it says nothing about this plan, so the comment leaves it out.
var (
	preambleFirst = regexp.MustCompile(`^(Terraform|OpenTofu) used the selected providers to generate the following`)
	preambleLast  = regexp.MustCompile(`^(Terraform|OpenTofu) will perform the following actions:$`)
)

// planLines turns Terraform's plain-text plan (or apply log) into the lines
// of a diff block: cleaned, the standard legend dropped, change markers
// moved to column 0.
func planLines(text string) []string {
	lines := dropPreamble(cleanLines(text))
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return moveMarkers(lines)
}

// cleanLines splits text into lines without colour codes, control
// characters or trailing blanks; a lone carriage return ends a line, as it
// does in markdown.
func cleanLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = ansiEscape.ReplaceAllString(text, "")
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return -1
		}
		return r
	}, text)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}

// dropPreamble removes Terraform's legend ("Terraform used the selected
// providers … symbols: + create …  Terraform will perform the following
// actions:") and the blank line after it, when it is there.
func dropPreamble(lines []string) []string {
	for i, l := range lines {
		if !preambleFirst.MatchString(l) {
			continue
		}
		for j := i + 1; j < len(lines) && j <= i+12; j++ {
			if !preambleLast.MatchString(lines[j]) {
				continue
			}
			end := j + 1
			if end < len(lines) && lines[end] == "" {
				end++
			}
			return append(lines[:i:i], lines[end:]...)
		}
		break
	}
	return lines
}

// moveMarkers moves each change marker to column 0. Inside a heredoc only
// the column Terraform uses for line-by-line markers counts; a YAML "- item"
// in the heredoc's content is text, not a marker.
func moveMarkers(lines []string) []string {
	out := make([]string, len(lines))
	heredoc, markerCol := "", 0
	for i, l := range lines {
		out[i] = l
		indent, m := marker(l)
		if heredoc != "" {
			if t := l[indent:]; t == heredoc || strings.HasPrefix(t, heredoc+" ") {
				heredoc = ""
			} else if m != "" && indent == markerCol {
				out[i] = m + l[:indent] + l[indent+len(m):]
			}
			continue
		}
		if strings.Contains(l, "<<") {
			if h := heredocOpen.FindStringSubmatch(l); h != nil {
				heredoc = h[1]
				// Line-by-line markers sit two columns right of the attribute.
				markerCol = indent + 2
				if m != "" {
					markerCol += len(m) + 1
				}
			}
		}
		if m != "" {
			out[i] = m + l[:indent] + l[indent+len(m):]
		}
	}
	return out
}

// cutLines keeps the head and the tail of lines within about budget bytes,
// replacing the middle with one line saying how much is left out; budget < 0
// keeps everything. Lines too long for the budget are shortened.
func cutLines(lines []string, budget int, what string) []string {
	if budget < 0 || size(lines) <= budget {
		return lines
	}
	lineMax := max(budget/4, 120)
	short, cloned := lines, false
	for i, l := range lines {
		if len(l) > lineMax {
			if !cloned {
				short, cloned = slices.Clone(lines), true
			}
			short[i] = clip(l, lineMax)
		}
	}
	if size(short) <= budget {
		return short
	}
	head, used := 0, 0
	for head < len(short) && used+len(short[head])+1 <= budget*2/3 {
		used += len(short[head]) + 1
		head++
	}
	tail := len(short)
	for tail > head && used+len(short[tail-1])+1 <= budget {
		used += len(short[tail-1]) + 1
		tail--
	}
	if tail-head <= 1 {
		// one line left out would take as much room as its marker
		return short
	}
	// Cut between resources, at blank lines, when there is one nearby.
	for j := head; j > head/2; j-- {
		if short[j-1] == "" {
			head = j - 1
			break
		}
	}
	for j := tail; j < tail+(len(short)-tail)/2; j++ {
		if short[j] == "" {
			tail = j + 1
			break
		}
	}
	marker := "@@ … " + plural(tail-head, "line", "lines") + " of this " + what +
		" omitted: the full text is in the artifacts … @@"
	out := make([]string, 0, head+3+len(short)-tail)
	out = append(out, short[:head]...)
	out = append(out, "", marker, "")
	return append(out, short[tail:]...)
}

// size is the byte length of lines joined by newlines.
func size(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	return n
}
