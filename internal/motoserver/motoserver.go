package motoserver

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
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

// Server is a running moto_server behind its loopback proxy.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL  string
	port int

	mu    sync.Mutex
	proc  *process
	proxy *http.Server
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

// Shared returns the package's shared server, starting it on first use,
// and points AWS_ENDPOINT_URL at it (again on every call, so a test that
// ran a private server before leaves nothing behind). Tests sharing it must
// use names of their own (tables, buckets, keys): its state lives as long
// as the package's tests. A test uses either Shared or Start, not both.
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
	}
	os.Setenv("AWS_ENDPOINT_URL", shared.srv.URL)
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
	s.proc, s.proxy = next.proc, next.proxy
	s.mu.Unlock()
}

// Stop closes the proxy (its port then refuses connections) and kills
// moto_server's whole process group. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proxy.Close()
	s.proc.stop()
	s.proc, s.proxy = nil, nil
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
