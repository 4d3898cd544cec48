package stacks

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-iac/strata/internal/gittest"
)

// history builds a repository whose commits change, one by one, what the
// analysis cache keeps: a module far from its callers, the calls
// themselves, a symlink on the way to a module, a hidden module, a stack
// that goes and one that becomes a module. Two stacks share one tree
// (same content, same hash) at different paths, so their "../m" calls lead
// to different modules.
func history(t *testing.T) (*gittest.Repo, []string) {
	g := gittest.New(t)
	g.Write(map[string]string{
		"live/prod/network/main.tf":  `module "vpc" { source = "../../../modules/vpc" }`,
		"live/prod/app/main.tf":      `module "svc" { source = "../../../modules/service" }`,
		"live/prod/app/jobs/main.tf": `resource "terraform_data" "job" {}`,
		"modules/vpc/main.tf":        `module "naming" { source = "../naming" }`,
		"modules/naming/main.tf":     `module "deep" { source = "../../lib/deep" }`,
		"lib/deep/main.tf":           `locals { x = 1 }`,
		"modules/service/main.tf":    `module "h" { source = "../.hidden/h" }`,
		"modules/.hidden/h/main.tf":  `locals { h = 1 }`,
		"shared/real/main.tf":        `locals { r = 1 }`,
		"live/edge/main.tofu":        `module "l" { source = "../../modules/link" }`,
		"a/s/main.tf":                `module "m" { source = "../m" }`,
		"a/m/main.tf":                `locals { a = 1 }`,
		"b/s/main.tf":                `module "m" { source = "../m" }`,
		"b/m/main.tf":                `locals { b = 1 }`,
	})
	symlink(t, g, "../shared/real", "modules/link")
	commits := []string{g.Commit("c0")}
	step := func(msg string, files map[string]string, remove ...string) {
		g.Write(files)
		g.Remove(remove...)
		commits = append(commits, g.Commit(msg))
	}
	step("module far from its callers", map[string]string{"lib/deep/main.tf": `locals { x = 2 }`})
	step("a new call", map[string]string{"live/prod/app/main.tf": `module "svc" { source = "../../../modules/service" }` + "\n" + `module "vpc" { source = "../../../modules/vpc" }`})
	g.Write(map[string]string{"shared/other/main.tf": `locals { o = 1 }`})
	g.Remove("modules/link")
	symlink(t, g, "../shared/other", "modules/link")
	commits = append(commits, g.Commit("retarget the link"))
	step("hidden module", map[string]string{"modules/.hidden/h/main.tf": `locals { h = 2 }`})
	step("one of two equal trees' modules", map[string]string{"b/m/main.tf": `locals { b = 2 }`})
	step("a stack goes", nil, "live/prod/app/jobs/main.tf")
	step("a stack becomes a module", map[string]string{"live/prod/network/main.tf": `module "vpc" { source = "../../../modules/vpc" }` + "\n" + `module "e" { source = "../../edge" }`})
	return g, commits
}

func changeSetJSON(t *testing.T, dir, base, head string) string {
	t.Helper()
	r, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.Changes(t.Context(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWarmCacheGivesTheColdAnswer(t *testing.T) {
	g, commits := history(t)
	warm := t.TempDir()
	var ranges [][2]string
	for i := range commits {
		for j := range commits {
			if i != j {
				ranges = append(ranges, [2]string{commits[i], commits[j]})
			}
		}
	}
	for pass := 0; pass < 2; pass++ {
		for _, rg := range ranges {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			cold := changeSetJSON(t, g.Dir, rg[0], rg[1])
			t.Setenv("XDG_CACHE_HOME", warm)
			if got := changeSetJSON(t, g.Dir, rg[0], rg[1]); got != cold {
				t.Fatalf("%s..%s (pass %d): warm change set\n%s\ncold\n%s", rg[0][:7], rg[1][:7], pass, got, cold)
			}
		}
	}
	// The far module, the equal trees, the link and the hidden module reach
	// their callers.
	t.Setenv("XDG_CACHE_HOME", warm)
	for _, tc := range []struct {
		base, head int
		want       []string
	}{
		{0, 1, []string{"live/prod/network"}},
		{2, 3, []string{"live/edge", "shared/real"}},
		{3, 4, []string{"live/prod/app"}},
		{4, 5, []string{"b/s"}},
	} {
		r, _ := OpenRepo(g.Dir)
		cs, err := r.Changes(t.Context(), commits[tc.base], commits[tc.head])
		if err != nil {
			t.Fatal(err)
		}
		wantDirs(t, cs, tc.want...)
	}
}

func TestCorruptCacheIsRebuilt(t *testing.T) {
	g, commits := history(t)
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	want := changeSetJSON(t, g.Dir, commits[0], commits[len(commits)-1])
	file := filepath.Join(dir, "strata", cacheName)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte{}, good...)
	flipped[len(flipped)-1] ^= 0xff
	// An older format, its checksum right.
	payload := append([]byte{}, good[len(cacheMagic)+sha256.Size:]...)
	payload[0] = cacheVersion - 1
	sum := sha256.Sum256(payload)
	oldVersion := append(append([]byte(cacheMagic), sum[:]...), payload...)
	for name, data := range map[string][]byte{
		"garbage":     []byte("not a cache"),
		"truncated":   good[:len(good)/2],
		"flipped":     flipped,
		"old version": oldVersion,
		"empty":       {},
	} {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := changeSetJSON(t, g.Dir, commits[0], commits[len(commits)-1]); got != want {
			t.Errorf("%s cache: change set\n%s\nwant\n%s", name, got, want)
		}
		rebuilt, err := os.ReadFile(file)
		if err != nil || !strings.HasPrefix(string(rebuilt), cacheMagic) || len(rebuilt) < len(good)/2 {
			t.Errorf("%s cache: not rebuilt (%d bytes, %v)", name, len(rebuilt), err)
		}
	}
}
