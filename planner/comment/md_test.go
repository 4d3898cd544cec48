package comment

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 9812: "9,812",
		1234567: "1,234,567", -45000: "-45,000"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for sec, want := range map[float64]string{0: "", -1: "", 0.04: "0.0s", 0.4: "0.4s", 1.23: "1.2s",
		12.34: "12.3s", 59.94: "59.9s", 59.96: "1m00s", 184: "3m04s", 3599.4: "59m59s",
		3600: "1h00m", 3725: "1h02m", 90000: "25h00m"} {
		if got := duration(sec); got != want {
			t.Errorf("duration(%v) = %q, want %q", sec, got, want)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	for in, want := range map[string]string{
		"live/prod":        "`live/prod`",
		"a`b":              "``a`b``",
		"`x`":              "`` `x` ``",
		"two\nlines":       "`two lines`",
		"has ``` inside":   "````has ``` inside````",
		` padded `:         "`padded`",
		`module.x["a b"]`:  "`module.x[\"a b\"]`",
		"tab\there":        "`tab here`",
		"</details><b>x":   "`</details><b>x`",
		"trailing space  ": "`trailing space`",
	} {
		if got := codeSpan(in); got != want {
			t.Errorf("codeSpan(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeText(t *testing.T) {
	got := escapeText("see <b>**this**</b> [x](y) & `z` | @alice_b ~~gone~~ $x$\nnext")
	want := "see \\<b\\>\\*\\*this\\*\\*\\</b\\> \\[x\\](y) \\& \\`z\\` \\| @\u2060alice\\_b \\~\\~\u2060gone\\~\\~ \\$\u2060x\\$ next"
	if got != want {
		t.Errorf("escapeText:\n got %q\nwant %q", got, want)
	}
	for in, want := range map[string]string{"# h": `\# h`, "1. one": `1\. one`, "- x": `\- x`, "> q": `\> q`, "42": "42", "ok": "ok"} {
		if got := leadSafe(in); got != want {
			t.Errorf("leadSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeBlock(t *testing.T) {
	for _, c := range []struct {
		lines  []string
		prefix string
		want   string
	}{
		{[]string{"plain"}, "", "```\nplain\n```"},
		{[]string{"a ``` b", ""}, "", "````\na ``` b\n\n````"},
		{[]string{"``````", "x"}, "> ", "> ```````\n> ``````\n> x\n> ```````"},
		{[]string{"", "y"}, "> ", "> ```\n>\n> y\n> ```"},
	} {
		if got := codeBlock("", c.lines, c.prefix); got != c.want {
			t.Errorf("codeBlock(%q, %q) = %q, want %q", c.lines, c.prefix, got, c.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("héllo wörld", 8); got != "héll…" || len(got) > 8 {
		t.Errorf("clip = %q (%d bytes)", got, len(got))
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("abc", 2); got != "" {
		t.Errorf("clip to less than the ellipsis = %q", got)
	}
	if got := clipMiddle("live/prod/eu-west-1/very/deep/stack", 20); got != "live/pro…eep/stack" || len(got) > 20 {
		t.Errorf("clipMiddle = %q (%d bytes)", got, len(got))
	}
	if got := clipMiddle("ΣΣΣΣΣΣΣΣΣΣ", 9); len(got) > 9 || !utf8.ValidString(got) {
		t.Errorf("clipMiddle = %q (%d bytes)", got, len(got))
	}
}

func TestPlanLines(t *testing.T) {
	in := "\nTerraform used the selected providers to generate the following execution\n" +
		"plan. Resource actions are indicated with the following symbols:\n  ~ update in-place\n\n" +
		"Terraform will perform the following actions:\n\n" +
		"  # terraform_data.h will be updated in-place\n" +
		"  ~ resource \"terraform_data\" \"h\" {\n" +
		"      ~ input  = <<-EOT\n" +
		"          - a: 1\n" +
		"          + a: 2\n" +
		"            list:\n" +
		"              - one\n" +
		"          -   - two\n" +
		"          +   - three\n" +
		"        EOT\n" +
		"      + tags   = {\n" +
		"          + \"team\" = \"core\"\n" +
		"        }\n" +
		"    }\n\x1b[1mPlan:\x1b[0m 0 to add, 1 to change, 0 to destroy.\r\n"
	want := []string{
		"  # terraform_data.h will be updated in-place",
		"~   resource \"terraform_data\" \"h\" {",
		"~       input  = <<-EOT",
		"-           a: 1",
		"+           a: 2",
		"            list:",
		"              - one", // YAML inside the heredoc, not a marker
		"-             - two",
		"+             - three",
		"        EOT",
		"+       tags   = {",
		"+           \"team\" = \"core\"",
		"        }",
		"    }",
		"Plan: 0 to add, 1 to change, 0 to destroy.",
	}
	got := planLines(in)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("planLines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCutLines(t *testing.T) {
	var lines []string
	for i := range 1000 {
		lines = append(lines, "  # resource "+num(i), "  + thing", "")
	}
	got := cutLines(lines, 2000, "plan")
	if s := size(got); s > 2200 {
		t.Errorf("cut to %d bytes, budget 2000", s)
	}
	if got[0] != lines[0] || got[len(got)-1] != lines[len(lines)-1] {
		t.Errorf("head or tail lost: %q … %q", got[0], got[len(got)-1])
	}
	var marker string
	for _, l := range got {
		if strings.HasPrefix(l, "@@ ") {
			marker = l
		}
	}
	if !strings.Contains(marker, "lines of this plan omitted") {
		t.Errorf("no omission marker in %q", got)
	}
	if full := cutLines(lines, -1, "plan"); len(full) != len(lines) {
		t.Errorf("unlimited budget cut %d lines", len(lines)-len(full))
	}
	long := []string{strings.Repeat("x", 100_000)}
	if s := size(cutLines(long, 2000, "plan")); s > 2000 {
		t.Errorf("a single long line kept %d bytes", s)
	}
}

// TestInertDefusesReferences: GitLab references in user text (#12, !12,
// group/project#12, %milestone, ~label) link to nothing and mentions
// notify nobody; text that merely holds the characters is unchanged.
func TestInertDefusesReferences(t *testing.T) {
	got := Inert(`unknown command "strata @all" see #12, !34, acme/infra#5 %v1 ~"bug" 100% ! # done`)
	want := "unknown command \"strata @\u2060all\" see #\u206012, !\u206034, acme/infra#\u20605 %\u2060v1 \\~\u2060\"bug\" 100% ! # done"
	if got != want {
		t.Errorf("Inert:\n got %q\nwant %q", got, want)
	}
	if got := mrRef("!4127"); got != "!4127" {
		t.Errorf("a merge request holding a lock is no longer a link: %q", got)
	}
	if got := mrRef("mallory said #1 @all"); got != "mallory said #\u20601 @\u2060all" {
		t.Errorf("a lock owner that is no merge request reference is not inert: %q", got)
	}
}

func TestInert(t *testing.T) {
	got := Inert("strata.yaml:3: unknown key \"x\"\n# heading\n@all <b>hi</b>\n> quote")
	want := "strata.yaml:3: unknown key \"x\"\n\\# heading\n@\u2060all \\<b\\>hi\\</b\\>\n\\> quote"
	if got != want {
		t.Errorf("Inert:\n got %q\nwant %q", got, want)
	}
}
