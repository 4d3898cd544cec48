package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-iac/strata/internal/motoserver"
)

// lockJSON is one entry of `strata locks list --format json`.
type lockJSON struct {
	Key        string    `json:"key"`
	Owner      string    `json:"owner"`
	AcquiredAt time.Time `json:"acquired_at"`
}

func listLocks(t *testing.T, locksURL string) []lockJSON {
	t.Helper()
	r := runStrata(t, nil, "locks", "list", "--locks", locksURL, "--format", "json")
	if r.code != 0 {
		t.Fatalf("locks list: exit %d: %s", r.code, r.stderr)
	}
	var locks []lockJSON
	if err := json.Unmarshal([]byte(r.stdout), &locks); err != nil {
		t.Fatalf("locks list --format json printed %q: %v", r.stdout, err)
	}
	return locks
}

var tableSeq atomic.Int64

// dynamoURL creates a fresh lock table on the shared moto server through
// `strata setup aws` and returns its URL.
func dynamoURL(t *testing.T) string {
	t.Helper()
	motoserver.Shared(t)
	n := tableSeq.Add(1)
	table, bucket := fmt.Sprintf("e2e-locks-%d", n), fmt.Sprintf("e2e-artifacts-%d", n)
	if r := runStrata(t, nil, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: exit %d: %s", r.code, r.stderr)
	}
	return "dynamodb://" + table
}

func boltURL(t *testing.T) string { return "bolt://" + filepath.Join(t.TempDir(), "locks.db") }

// TestLocksRace: 20 strata processes acquire one key at once; exactly one
// exits 0 and the 19 others exit 3 naming it.
func TestLocksRace(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{"bolt": boltURL, "dynamodb": dynamoURL} {
		t.Run(name, func(t *testing.T) {
			locksURL := url(t)
			const n = 20
			key := "gitlab/acme/infra/live/prod/network/default"
			cmds := make([]*exec.Cmd, n)
			stderrs := make([]bytes.Buffer, n)
			for i := range cmds {
				cmds[i] = exec.Command(strataBin(), "locks", "acquire", key, "--owner", fmt.Sprintf("owner%d", i), "--locks", locksURL)
				cmds[i].Stderr = &stderrs[i]
			}
			for _, c := range cmds {
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
			}
			var winners, losers []int
			for i, c := range cmds {
				err := c.Wait()
				switch code := c.ProcessState.ExitCode(); code {
				case 0:
					winners = append(winners, i)
				case 3:
					losers = append(losers, i)
				default:
					t.Errorf("owner%d: exit %d (%v): %s", i, code, err, stderrs[i].String())
				}
			}
			if len(winners) != 1 || len(losers) != n-1 {
				t.Fatalf("winners %v, losers %v; want exactly one winner and %d losers", winners, losers, n-1)
			}
			winner := fmt.Sprintf("owner%d", winners[0])
			for _, i := range losers {
				if !strings.Contains(stderrs[i].String(), "locked by "+winner+" ") {
					t.Errorf("owner%d's stderr %q does not name the winner %s", i, stderrs[i].String(), winner)
				}
			}
			locks := listLocks(t, locksURL)
			if len(locks) != 1 || locks[0].Key != key || locks[0].Owner != winner {
				t.Errorf("locks list = %+v, want %s held by %s", locks, key, winner)
			}
		})
	}
}

func TestLocksReleaseAndForceRelease(t *testing.T) {
	for name, url := range map[string]func(*testing.T) string{"bolt": boltURL, "dynamodb": dynamoURL} {
		t.Run(name, func(t *testing.T) {
			locksURL := url(t)
			locks := func(args ...string) result {
				return runStrata(t, nil, append(append([]string{"locks"}, args...), "--locks", locksURL)...)
			}
			if r := locks("acquire", "stack/a", "--owner", "alice"); r.code != 0 {
				t.Fatalf("acquire: exit %d: %s", r.code, r.stderr)
			}
			if r := locks("acquire", "stack/a", "--owner", "alice"); r.code != 0 {
				t.Fatalf("acquire again by the holder: exit %d: %s", r.code, r.stderr)
			}
			r := locks("release", "stack/a", "--owner", "bob")
			if r.code != 3 || !strings.Contains(r.stderr, "locked by alice") {
				t.Fatalf("release by bob: exit %d, stderr %q; want 3 naming alice", r.code, r.stderr)
			}
			if got := listLocks(t, locksURL); len(got) != 1 || got[0].Owner != "alice" || got[0].AcquiredAt.IsZero() {
				t.Fatalf("after bob's release, list = %+v; want alice's lock kept", got)
			}
			if r := locks("release", "stack/a", "--owner", "alice"); r.code != 0 {
				t.Fatalf("release by alice: exit %d: %s", r.code, r.stderr)
			}
			if r := locks("release", "stack/a", "--owner", "alice"); r.code != 3 {
				t.Fatalf("release of a free key: exit %d, want 3", r.code)
			}
			if r := locks("acquire", "stack/b", "--owner", "carol"); r.code != 0 {
				t.Fatalf("acquire: exit %d: %s", r.code, r.stderr)
			}
			r = locks("force-release", "stack/b")
			if r.code != 0 || !strings.Contains(r.stdout, "carol") {
				t.Fatalf("force-release: exit %d, stdout %q; want 0 naming carol", r.code, r.stdout)
			}
			r = locks("list", "--format", "json")
			if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
				t.Fatalf("list of no locks: exit %d, stdout %q; want []", r.code, r.stdout)
			}
			if r := locks("list"); r.code != 0 || !strings.Contains(r.stdout, "no locks held") {
				t.Fatalf("text list of no locks: exit %d, stdout %q", r.code, r.stdout)
			}
		})
	}
}

func TestLocksLeaseAndTextList(t *testing.T) {
	dataDir := t.TempDir()
	r := runStrata(t, nil, "locks", "acquire", "k1", "--owner", "alice", "--lease", "1s", "--data-dir", dataDir)
	if r.code != 0 || !strings.Contains(r.stdout, "lease until") {
		t.Fatalf("acquire with a lease: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "locks.db")); err != nil {
		t.Fatalf("default locks file not under --data-dir: %v", err)
	}
	runStrata(t, nil, "locks", "acquire", "k2", "--owner", "bob", "--data-dir", dataDir)
	r = runStrata(t, nil, "locks", "list", "--data-dir", dataDir)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "KEY") ||
		!strings.HasPrefix(lines[1], "k1") || !strings.Contains(lines[2], "never") {
		t.Fatalf("text list: exit %d:\n%s", r.code, r.stdout)
	}
	if strings.Index(lines[0], "OWNER") != strings.Index(lines[1], "alice") {
		t.Errorf("text list columns are not aligned:\n%s", r.stdout)
	}
	time.Sleep(2100 * time.Millisecond)
	if r := runStrata(t, nil, "locks", "acquire", "k1", "--owner", "bob", "--data-dir", dataDir); r.code != 0 {
		t.Fatalf("acquire after alice's lease ran out: exit %d: %s", r.code, r.stderr)
	}
}

// TestLocksDefaultDataDir: without --locks and --data-dir the locks file
// is $XDG_DATA_HOME/strata/locks.db, else ~/.local/share/strata/locks.db.
func TestLocksDefaultDataDir(t *testing.T) {
	xdg, home := t.TempDir(), t.TempDir()
	if r := runStrata(t, []string{"XDG_DATA_HOME=" + xdg}, "locks", "acquire", "k", "--owner", "o"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(xdg, "strata", "locks.db")); err != nil {
		t.Errorf("locks file not under XDG_DATA_HOME: %v", err)
	}
	if r := runStrata(t, []string{"XDG_DATA_HOME=", "HOME=" + home}, "locks", "acquire", "k", "--owner", "o"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, ".local", "share", "strata", "locks.db")); err != nil {
		t.Errorf("locks file not under ~/.local/share: %v", err)
	}
}

func TestLocksBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"locks", "list", "--locks", "redis://x"}, "dynamodb://TABLE"},
		{[]string{"locks", "list", "--format", "yaml", "--locks", boltURL(t)}, "use text or json"},
		{[]string{"locks", "acquire", "k", "--locks", boltURL(t)}, `"owner" not set`},
		{[]string{"locks", "acquire", "k", "--owner", "o", "--lease", "soon", "--locks", boltURL(t)}, "--lease"},
		{[]string{"locks", "release", "--owner", "o", "--locks", boltURL(t)}, "accepts 1 arg"},
	} {
		r := runStrata(t, nil, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("strata %q: exit %d, stderr %q; want exit 1 and one line containing %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
