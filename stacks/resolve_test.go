package stacks

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

// hexRefs is a repository with two commits and branches whose names look
// like hex: the first four digits of the first commit's SHA, its first
// digit, and a number.
func hexRefs(t testing.TB) (g *gittest.Repo, first, second string) {
	t.Helper()
	g = gittest.New(t)
	g.Write(mono)
	first = g.Commit("initial")
	g.Write(map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" } # 2`})
	second = g.Commit("second")
	for _, name := range []string{first[:4], first[:1], "1234"} {
		g.Git("branch", "-f", name, second)
	}
	return g, first, second
}

func TestResolvePrefersRefsOverShortSHA(t *testing.T) {
	g, first, second := hexRefs(t)
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{first[:4], first[:1], "1234", "heads/" + first[:4], "refs/heads/1234"} {
		c, err := r.Resolve(ref)
		if err != nil {
			t.Errorf("Resolve(%q): %v", ref, err)
			continue
		}
		if c.Hash.String() != second {
			t.Errorf("Resolve(%q) = %s, want the branch's commit %s (git prefers refs to short SHAs)", ref, short(c.Hash), second[:12])
		}
	}
	// A SHA prefix that is no ref still names the commit, from 4 digits on;
	// a full SHA always names the commit.
	for _, ref := range []string{first[:5], first[:7], first} {
		if c, err := r.Resolve(ref); err != nil || c.Hash.String() != first {
			t.Errorf("Resolve(%q) = %v, %v; want %s", ref, c, err, first[:12])
		}
	}
	if _, err := r.Resolve(second[:3]); err == nil || !strings.Contains(err.Error(), "unknown ref") {
		t.Errorf("Resolve of a 3-digit prefix = %v, want unknown ref (git needs at least 4 digits)", err)
	}
	// As --head, a hex branch name must give the branch's change set.
	cs, err := r.Changes(t.Context(), first, first[:4])
	if err != nil {
		t.Fatal(err)
	}
	wantDirs(t, cs, "live/prod/network")
}

// TestResolveAgreesWithGit resolves every form the CLI documents, and a few
// more git accepts or rejects, and checks each against git rev-parse.
func TestResolveAgreesWithGit(t *testing.T) {
	g, first, _ := hexRefs(t)
	g.Git("tag", "v1", first)
	g.Git("tag", "-a", "-m", "annotated", "v2", first)
	g.Git("update-ref", "refs/remotes/origin/main", first)
	g.Git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	g.Git("checkout", "-q", "-b", "side", first)
	g.Write(map[string]string{"x.txt": "side"})
	g.Commit("side")
	g.Git("checkout", "-q", "main")
	g.Git("merge", "-q", "--no-ff", "-m", "merge side", "side")
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{
		"HEAD", "@", "main", "HEAD~1", "HEAD~", "HEAD^", "HEAD^2", "HEAD^^", "HEAD^2~1", "main^0", "HEAD~1^2", "v1^{tree}", "nope",
		"v1", "v2", "tags/v2", "v2^{commit}", "v2~0", "v2^{}", "origin/main", "origin", "remotes/origin/main",
		"refs/remotes/origin/main", first, strings.ToUpper(first[:8]), "side~1",
	} {
		want := revParse(t, g.Dir, ref)
		c, err := r.Resolve(ref)
		if want == "" {
			if err == nil {
				t.Errorf("Resolve(%q) = %s; git names no commit", ref, c.Hash)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v; git says %s", ref, err, want)
			continue
		}
		if c.Hash.String() != want {
			t.Errorf("Resolve(%q) = %s, git says %s", ref, c.Hash, want)
		}
	}
}

func TestResolveAmbiguousShortSHA(t *testing.T) {
	g, _ := setup(t, mono)
	// fast-import writes many commits in one process; with 700 of them two
	// share their first four digits.
	var stream strings.Builder
	for i := 0; i < 700; i++ {
		msg := fmt.Sprintf("commit %d", i)
		fmt.Fprintf(&stream, "commit refs/heads/many\ncommitter t <t@example.com> 1700000000 +0000\ndata %d\n%s\n", len(msg), msg)
		if i == 0 {
			stream.WriteString("from refs/heads/main\n")
		}
		fmt.Fprintf(&stream, "M 644 inline n.txt\ndata %d\n%s\n\n", len(msg), msg)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = g.Dir
	cmd.Stdin = strings.NewReader(stream.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	byPrefix := map[string][]string{}
	for _, h := range strings.Fields(g.Git("rev-list", "--all")) {
		byPrefix[h[:4]] = append(byPrefix[h[:4]], h)
	}
	prefix := ""
	for p, hs := range byPrefix {
		if len(hs) > 1 && (prefix == "" || p < prefix) {
			prefix = p
		}
	}
	if prefix == "" {
		t.Fatal("no two commits share four digits; make more")
	}
	r, err := OpenRepo(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(prefix)
	want := fmt.Sprintf("%d commits", len(byPrefix[prefix]))
	if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "more digits") {
		t.Fatalf("Resolve(%q) = %v; want an ambiguity error naming %s and asking for more digits", prefix, err, want)
	}
	// Enough digits make it unique again.
	h := byPrefix[prefix][0]
	if c, err := r.Resolve(h[:12]); err != nil || c.Hash.String() != h {
		t.Errorf("Resolve(%q) = %v, %v", h[:12], c, err)
	}
}

// FuzzResolve checks that whatever a ref looks like, strata never resolves
// it to a commit other than the one git rev-parse names.
func FuzzResolve(f *testing.F) {
	g, first, second := hexRefs(f)
	g.Git("tag", "-a", "-m", "annotated", "v2", first)
	g.Git("update-ref", "refs/remotes/origin/main", first)
	r, err := OpenRepo(g.Dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"HEAD", "HEAD~1", "main^", first, first[:4], first[:1], second[:6], "1234", "v2^{commit}", "origin/main", "main~1^0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		c, err := r.Resolve(ref)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("Resolve(%q): error spans lines: %q", ref, err)
			}
			return
		}
		if want := revParse(t, g.Dir, ref); c.Hash.String() != want {
			t.Fatalf("Resolve(%q) = %s, git rev-parse says %q", ref, c.Hash, want)
		}
	})
}

// revParse is git's answer for ref as a commit, "" when git has none.
func revParse(t testing.TB, dir, ref string) string {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	cmd.Dir = dir
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}
