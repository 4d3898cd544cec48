package motoserver

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Region is the region the SDK environment names; moto accepts any.
const Region = "us-east-1"

// deadEndpoint is where the SDK points before any server runs: a refused
// loopback port, so a test that forgets to start moto fails fast instead of
// reaching for AWS.
const deadEndpoint = "http://127.0.0.1:1"

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
	logTail      = 8 << 10
)

// Server is one running moto_server process.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *tail
}

var shared struct {
	mu      sync.Mutex
	inMain  bool
	srv     *Server
	failure error
}

// Main runs the tests of a package that uses moto: it points the AWS SDK at
// nothing real, runs m, and stops the shared server if a test started it.
// Use it as: func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }.
func Main(m *testing.M) int {
	isolateEnv()
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.srv != nil {
		shared.srv.Stop()
		shared.srv = nil
	}
	shared.mu.Unlock()
	return code
}

// Shared returns the package's shared server, starting it on first use and
// pointing AWS_ENDPOINT_URL at it. Tests sharing it must use names of their
// own (tables, buckets, keys): its state lives as long as the package's
// tests.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	requireMain(tb)
	requireBinary(tb)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.failure != nil {
		tb.Fatal(shared.failure)
	}
	if shared.srv == nil {
		srv, err := start(0)
		if err != nil {
			shared.failure = err
			tb.Fatal(err)
		}
		shared.srv = srv
		os.Setenv("AWS_ENDPOINT_URL", srv.URL)
	}
	return shared.srv
}

// Start starts a private server for tb, points AWS_ENDPOINT_URL at it for
// the rest of tb (tb.Setenv, so tb must not be parallel) and stops it when
// tb ends. Use it to stop or restart a server mid-test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	requireMain(tb)
	requireBinary(tb)
	srv, err := start(0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
	tb.Setenv("AWS_ENDPOINT_URL", srv.URL)
	return srv
}

// Restart starts the server again on the same port after Stop. moto keeps
// its state in memory, so the restarted server is empty.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	next, err := start(s.port)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.cmd, s.done, s.log = next.cmd, next.done, next.log
	s.mu.Unlock()
}

// Stop kills the server's whole process group and waits for it. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
	}
	// Reap anything of the group that outlived its leader.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// requireMain fails tb unless the package's TestMain runs Main, which
// isolates the environment from real AWS and stops the shared server.
func requireMain(tb testing.TB) {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		tb.Fatal("motoserver needs motoserver.Main in the package's TestMain")
	}
}

// requireBinary skips tb when moto_server is not on PATH, or fails it when
// CI=true.
func requireBinary(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("moto_server not found on PATH (CI=true: tests needing S3/DynamoDB must run): %v", err)
		}
		tb.Skipf("moto_server not found on PATH: %v (install Python moto[server] to run this test)", err)
	}
}

// start launches moto_server on port (0: a free one) and waits until it
// answers HTTP.
func start(port int) (*Server, error) {
	var lastErr error
	for range 3 {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		srv, err := launch(p)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if port != 0 {
			// A fixed port may still be in TIME_WAIT; try again shortly.
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil, lastErr
}

func launch(port int) (*Server, error) {
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = sysProcAttr()
	log := &tail{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{
		URL:  fmt.Sprintf("http://127.0.0.1:%d", port),
		port: port, cmd: cmd, done: make(chan struct{}), log: log,
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("moto_server on port %d exited before answering:\n%s", s.port, s.log)
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("moto_server on port %d did not answer within %s:\n%s", s.port, readyTimeout, s.log)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for moto_server: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isolateEnv makes the SDK's default chain resolve to dummy credentials and
// a fixed region, with no shared config files, no instance metadata and no
// service-specific endpoint overriding AWS_ENDPOINT_URL.
func isolateEnv() {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_ENDPOINT_URL_") || strings.HasPrefix(name, "AWS_CONTAINER_") {
			os.Unsetenv(name)
		}
	}
	for _, name := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		os.Unsetenv(name)
	}
	for name, value := range map[string]string{
		"AWS_ENDPOINT_URL":            deadEndpoint,
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          Region,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		os.Setenv(name, value)
	}
}

// tail keeps the last bytes moto_server wrote, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > logTail {
		t.buf = t.buf[len(t.buf)-logTail:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
