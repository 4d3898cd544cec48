package comment

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSummaryIsHeadingAndTable: the check-run report holds the heading
// and one row per stack, and none of the plans.
func TestSummaryIsHeadingAndTable(t *testing.T) {
	s := monorepo(t, 300)
	got := Summary(s, Options{MaxSize: GitHubLimit - 1})
	if !strings.HasPrefix(got, "### ") || strings.Contains(got, "<!--") || strings.Contains(got, "<details") {
		t.Fatalf("not a heading and a table:\n%.500s", got)
	}
	if rows := strings.Count(got, "\n| `"); rows != len(s.Stacks) {
		t.Errorf("%d rows, want one per stack (%d)", rows, len(s.Stacks))
	}
	full := Render(s, Options{MaxSize: GitHubLimit})[0]
	if head, _, _ := strings.Cut(got, "\n\n"); !strings.Contains(full, head) {
		t.Errorf("the heading differs from the comment's:\n%s", head)
	}
}

// TestSummaryCountsWhatDoesNotFit: with thousands of stacks the table is
// cut to the limit and the last line counts the stacks left out.
func TestSummaryCountsWhatDoesNotFit(t *testing.T) {
	s := monorepo(t, 3_000)
	for _, limit := range []int{GitHubLimit - 1, 4_096, 1_000} {
		got := Summary(s, Options{MaxSize: limit})
		if len(got) > limit {
			t.Fatalf("limit %d: %d bytes", limit, len(got))
		}
		m := regexp.MustCompile(`\*… and ([0-9,]+) more stacks: see the comment\.\*\n$`).FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("limit %d: no count of the stacks left out:\n…%s", limit, got[max(0, len(got)-300):])
		}
		left, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		if shown := strings.Count(got, "\n| `"); shown+left != len(s.Stacks) {
			t.Errorf("limit %d: %d rows shown + %d counted, want %d", limit, shown, left, len(s.Stacks))
		}
	}
	if got := Summary(s, Options{MaxSize: 40}); len(got) > 40 {
		t.Errorf("tiny limit: %d bytes", len(got))
	}
}
