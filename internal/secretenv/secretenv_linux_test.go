package secretenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const helperSecret = "glpat-hidden-0123456789"

// TestHelperProcess is the server of TestHideKeepsSecretsOutOfProcEnviron,
// run as a process of its own.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("SECRETENV_HELPER") != "1" {
		t.Skip("helper process")
	}
	if err := Hide(func(name string) bool { return strings.HasSuffix(name, "_TOKEN") }); err != nil {
		fmt.Println("hide:", err)
		os.Exit(1)
	}
	if err := Protect(); err != nil {
		fmt.Println("protect:", err)
		os.Exit(1)
	}
	dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	fmt.Printf("pid=%d getenv=%s dumpable=%d\n", os.Getpid(), os.Getenv("HELPER_TOKEN"), dumpable)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// TestHideKeepsSecretsOutOfProcEnviron starts a process with a secret in
// its environment: after Hide its code still reads the secret, its PID is
// the one it started with, and /proc/<pid>/environ no longer holds it.
func TestHideKeepsSecretsOutOfProcEnviron(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "SECRETENV_HELPER=1", "HELPER_TOKEN="+helperSecret, "HELPER_PLAIN=visible")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v %q", err, line)
	}
	want := fmt.Sprintf("pid=%d getenv=%s dumpable=0\n", cmd.Process.Pid, helperSecret)
	if line != want {
		t.Errorf("helper says %q, want %q", line, want)
	}
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(environ), helperSecret) || !strings.Contains(string(environ), "HELPER_PLAIN=visible") {
		t.Errorf("/proc/<pid>/environ after Hide:\n%s", strings.ReplaceAll(string(environ), "\x00", "\n"))
	}
}
