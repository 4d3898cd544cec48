package motoserver

import (
	"errors"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStopRestartLeaveNothingBehind(t *testing.T) {
	s := Start(t)
	if got := os.Getenv("AWS_ENDPOINT_URL"); got != s.URL {
		t.Fatalf("AWS_ENDPOINT_URL = %q, want %q", got, s.URL)
	}
	answers(t, s.URL, true)
	first := s.proc.cmd.Process.Pid
	s.Stop()
	answers(t, s.URL, false)
	gone(t, first)
	s.Restart(t)
	answers(t, s.URL, true)
	second := s.proc.cmd.Process.Pid
	s.Stop()
	s.Stop()
	gone(t, second)
}

func TestSharedIsOneServer(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a != b {
		t.Fatal("Shared started two servers")
	}
	answers(t, a.URL, true)
	if os.Getenv("AWS_EC2_METADATA_DISABLED") != "true" || os.Getenv("AWS_ACCESS_KEY_ID") != "testing" {
		t.Error("Main did not isolate the SDK environment")
	}
}

func answers(t *testing.T, url string, want bool) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url + "/moto-api/")
	if err == nil {
		resp.Body.Close()
	}
	if got := err == nil; got != want {
		t.Fatalf("%s answers = %v (%v), want %v", url, got, err, want)
	}
}

// gone checks no process of the group led by pid is left.
func gone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process group %d still exists after Stop (kill 0: %v)", pid, err)
	}
}
