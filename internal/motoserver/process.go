package motoserver

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"sync"
	"time"
)

// start launches moto_server and its proxy; the proxy listens on port (0:
// a free one).
func start(port int) (*Server, error) {
	proc, err := startProcess()
	if err != nil {
		return nil, err
	}
	ln, err := listen(port)
	if err != nil {
		proc.stop()
		return nil, err
	}
	proxy := &http.Server{Handler: newSerial(proc.url), ReadHeaderTimeout: readyTimeout}
	go func() { _ = proxy.Serve(ln) }()
	return &Server{
		URL:  "http://" + ln.Addr().String(),
		port: ln.Addr().(*net.TCPAddr).Port,
		proc: proc, proxy: proxy,
	}, nil
}

func listen(port int) (net.Listener, error) {
	var err error
	for range 10 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("listen for the moto proxy: %w", err)
}

// process is one moto_server process.
type process struct {
	url  *url.URL
	cmd  *exec.Cmd
	done chan struct{}
	log  *tail
}

// startProcess runs moto_server on a free port and waits until it answers.
func startProcess() (*process, error) {
	var lastErr error
	for range 3 { // a free port can be taken between probe and bind
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := launch(port)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(port int) (*process, error) {
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = sysProcAttr()
	log := &tail{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	p := &process{
		url: &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)},
		cmd: cmd, done: make(chan struct{}), log: log,
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *process) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("moto_server on %s exited before answering:\n%s", p.url.Host, p.log)
		default:
		}
		resp, err := client.Get(p.url.String() + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("moto_server on %s did not answer within %s:\n%s", p.url.Host, readyTimeout, p.log)
}

// stop kills the process group: SIGTERM, then SIGKILL for whatever is left.
func (p *process) stop() {
	signalGroup(p.cmd.Process, false)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
	}
	signalGroup(p.cmd.Process, true)
	<-p.done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for moto_server: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
