package comment

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Markdown building blocks shared by the comment renderer. Everything that
// comes from a Summary goes through one of these before it reaches the
// comment, so no plan, address or error text can turn into markup.

// oneLine flattens s to a single line: control characters (newlines
// included) become spaces.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// codeSpan renders s as inline code, whatever backticks it holds.
func codeSpan(s string) string {
	s = oneLine(s)
	delim := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		(strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return delim + s + delim
}

// cell makes inline markdown safe inside a table cell: a pipe would end
// the cell, even inside a code span, unless escaped.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// escapeText renders s as one line of inert inline prose: markdown and
// HTML punctuation is escaped, and @mentions and GitLab's references
// (#12 issues, !12 merge requests, %milestones, &epics, $snippets,
// ~labels) are defused, so a message never notifies anyone nor links to
// what its author chose.
func escapeText(s string) string {
	var b strings.Builder
	runes := []rune(oneLine(s))
	for i, r := range runes {
		if strings.ContainsRune("\\`*_[]<>|~&$", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		if r == '@' || strings.ContainsRune(referencePrefixes, r) && i+1 < len(runes) && refersTo(runes[i+1]) {
			b.WriteRune('\u2060') // word joiner: "@\u2060name", "#\u206012" refer to nothing
		}
	}
	return b.String()
}

// referencePrefixes are the characters besides @ that open a reference in
// GitLab (and GitHub) markdown when a name, a number or a quote follows.
const referencePrefixes = "#!%&$~"

func refersTo(r rune) bool { return r == '"' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// mrRef renders who holds a lock: a merge request reference made by the
// server (GitLab's "!12", "group/project!12", GitHub's "#12",
// "owner/repo#12") stays a link; anything else is escaped.
func mrRef(s string) string {
	s = clip(oneLine(s), maxShort)
	for _, sep := range []string{"!", "#"} {
		if ref, n, ok := strings.Cut(s, sep); ok && n != "" && strings.Trim(n, "0123456789") == "" &&
			strings.Trim(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") == "" {
			return s
		}
	}
	return escapeText(s)
}

// leadSafe escapes what would make inline markdown s start a block where it
// opens a line or a list item: a heading, a quote, a list, a rule.
func leadSafe(s string) string {
	if s != "" && strings.ContainsRune("#>+-=*", rune(s[0])) {
		return `\` + s
	}
	if n := len(s) - len(strings.TrimLeft(s, "0123456789")); n > 0 && n < len(s) &&
		(s[n] == '.' || s[n] == ')') {
		return s[:n] + `\` + s[n:]
	}
	return s
}

// escapeHTML makes s safe as text inside an HTML element such as <summary>.
func escapeHTML(s string) string {
	return html.EscapeString(oneLine(s))
}

// codeBlock renders lines as a fenced code block, each line prefixed with
// prefix (e.g. "> " inside a block quote).
func codeBlock(lang string, lines []string, prefix string) string {
	longest, n := 0, 0
	for _, l := range lines {
		longest = max(longest, longestRun(l, '`'))
		n += len(prefix) + len(l) + 1
	}
	f := strings.Repeat("`", max(3, longest+1))
	var b strings.Builder
	b.Grow(n + 2*(len(prefix)+len(f)) + len(lang) + 1)
	b.WriteString(prefix + f + lang + "\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString(strings.TrimRight(prefix, " ") + "\n")
			continue
		}
		b.WriteString(prefix + l + "\n")
	}
	b.WriteString(prefix + f)
	return b.String()
}

// quote prefixes every line of s with "> ", making it part of a block quote.
func quote(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// num formats n with thousands separators: 9812 → "9,812".
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// plural renders "1 stack", "3 stacks", "1,204 resources".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}

// duration renders seconds for people: "0.4s", "12.3s", "3m04s", "1h02m";
// "" for an unknown (zero) duration.
func duration(sec float64) string {
	if sec <= 0 || math.IsNaN(sec) || math.IsInf(sec, 0) {
		return ""
	}
	if tenths := math.Round(sec * 10); tenths < 600 {
		return fmt.Sprintf("%.1fs", tenths/10)
	}
	s := int64(math.Round(sec))
	if s < 3600 {
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	m := (s + 30) / 60
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}

// shortSHA abbreviates a commit hash the way forges display it.
func shortSHA(sha string) string {
	sha = oneLine(sha)
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

// clipMiddle shortens s to at most n bytes by cutting its middle, keeping
// the start and the end of a long path apart.
func clipMiddle(s string, n int) string {
	const mark = "…"
	if len(s) <= n || n < 2*len(mark) {
		return clip(s, n)
	}
	head, tail := (n-len(mark))/2, (n-len(mark))-(n-len(mark))/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	start := len(s) - tail
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return s[:head] + mark + s[start:]
}

// clip cuts s to at most n bytes at a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	if n < len(mark) {
		return ""
	}
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// Code renders text that a user or Terraform wrote (a stack directory, a
// command) as inline code, whatever backticks it holds: nothing in it is
// markup, a mention or a reference.
func Code(s string) string { return codeSpan(s) }

// LockOwner renders who holds a lock: a merge request reference the server
// made ("!12") stays a link, anything else is rendered inert.
func LockOwner(s string) string { return mrRef(s) }

// Inert renders text that a user or Terraform wrote (an error message, a
// command) as inert markdown prose, line by line: no markup, no HTML, no
// @mention, no block started by a line's first character.
func Inert(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = leadSafe(escapeText(l))
	}
	return strings.Join(lines, "\n")
}
