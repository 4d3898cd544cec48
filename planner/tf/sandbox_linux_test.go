package tf

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needSandbox makes the sandbox, skipping the test where none can be made
// (failing it under CI=true).
func needSandbox(t testing.TB) *Sandbox {
	t.Helper()
	sb, err := NewSandbox(context.Background(), SandboxRequired)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skip(err)
	}
	return sb
}

// TestSandboxShowsOnlyItsMounts runs a shell in the sandbox and checks
// what it can see and do: its mounts (read-only ones not writable), not
// their siblings, not strata's process, not the host's /tmp, and no
// capability.
func TestSandboxShowsOnlyItsMounts(t *testing.T) {
	sb := needSandbox(t)
	root := t.TempDir()
	ro, rw, hidden := filepath.Join(root, "ro"), filepath.Join(root, "rw"), filepath.Join(root, "hidden")
	for _, d := range []string{ro, rw, hidden} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(ro, "f"), []byte("readable"), 0o600)
	os.WriteFile(filepath.Join(hidden, "secret"), []byte("x"), 0o600)
	hostTmp, err := os.CreateTemp("", "strata-host-")
	if err != nil {
		t.Fatal(err)
	}
	hostTmp.Close()
	defer os.Remove(hostTmp.Name())
	me := strconv.Itoa(os.Getpid())
	script := `
cat ` + ro + `/f; echo
echo x > ` + ro + `/new 2>/dev/null && echo ro-writable
echo x > ` + rw + `/new && echo rw-written
test -e ` + hidden + ` && echo hidden-visible
test -e ` + hostTmp.Name() + ` && echo host-tmp-visible
test -e /proc/` + me + ` && echo strata-visible
ls /proc | grep -E '^[0-9]+$' | tr '\n' ' '; echo
grep CapEff /proc/self/status
cat /etc/passwd
`
	out, err := command{bin: "/bin/sh", dir: rw, grace: time.Second, sandbox: sb,
		mounts: Mounts{ReadOnly: []string{ro}, ReadWrite: []string{rw}, Optional: []string{filepath.Join(root, "missing")}}}.
		run(context.Background(), "-c", script)
	if err != nil || out.Code != 0 {
		t.Fatalf("sandboxed shell: %v, exit %d\n%s%s", err, out.Code, out.Stdout, out.Stderr)
	}
	got := string(out.Stdout)
	for _, want := range []string{"readable\n", "rw-written\n", "CapEff:\t0000000000000000\n", ":/tmp:/bin/sh\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"ro-writable", "hidden-visible", "host-tmp-visible", "strata-visible"} {
		if strings.Contains(got, bad) {
			t.Errorf("sandbox reports %s:\n%s", bad, got)
		}
	}
	if pids := strings.Fields(strings.Split(got, "\n")[2]); len(pids) > 4 {
		t.Errorf("the sandbox's /proc lists %d processes, want only its own: %v", len(pids), pids)
	}
	if _, err := os.Stat(filepath.Join(rw, "new")); err != nil {
		t.Errorf("the read-write mount's file is not on the host: %v", err)
	}
}

// TestSandboxInterruptReachesTheCommand cancels a sandboxed command: it
// gets SIGINT (bwrap itself passes no signal on) and may stop gracefully.
func TestSandboxInterruptReachesTheCommand(t *testing.T) {
	sb := needSandbox(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	script := `trap 'echo interrupted > ` + dir + `/stopped; exit 3' INT; touch ` + dir + `/ready; while :; do sleep 0.05; done`
	_, err := command{bin: "/bin/sh", dir: dir, grace: 10 * time.Second, sandbox: sb, mounts: Mounts{ReadWrite: []string{dir}}}.
		run(ctx, "-c", script)
	if err == nil {
		t.Fatal("a cancelled command reported no error")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "stopped")); string(data) != "interrupted\n" {
		t.Errorf("the sandboxed command was not interrupted gracefully (stopped: %q)", data)
	}
}
