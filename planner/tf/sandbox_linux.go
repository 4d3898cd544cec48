package tf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Sandbox runs terraform in bubblewrap (bwrap): new user, PID, mount and
// IPC namespaces, a fresh /proc, no capabilities, a session of its own,
// the network as it is, and a filesystem made of the system directories
// (read-only), a private /tmp and the Mounts of each command.
type Sandbox struct {
	bwrap string
	// system are the arguments every sandbox starts with.
	system []string
	// passwd and group are the sandbox's /etc/passwd and /etc/group: the
	// current user alone.
	passwd, group []byte
}

// systemDirs are shown read-only (or as the symlinks they are, as /bin is
// on merged-/usr systems); systemFiles are the few files of /etc that
// programs need to run, resolve names and check certificates.
var (
	systemDirs  = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}
	systemFiles = []string{
		"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/etc/crypto-policies",
		"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
		"/etc/services", "/etc/protocols", "/etc/localtime",
		"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
	}
)

// File descriptors of a sandboxed command, after stdin, stdout, stderr.
const (
	infoFD = 3 + iota
	passwdFD
	groupFD
)

func probeSandbox(ctx context.Context) (*Sandbox, error) {
	path, err := exec.LookPath("bwrap")
	if err != nil {
		return nil, errors.New("bubblewrap (bwrap) is not installed: install it (apt-get install bubblewrap, dnf install bubblewrap)")
	}
	s := &Sandbox{bwrap: path}
	s.system = []string{"--unshare-user", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
		"--new-session", "--as-pid-1", "--cap-drop", "ALL"}
	for _, d := range systemDirs {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(d); err == nil {
				s.system = append(s.system, "--symlink", target, d)
			}
		case fi.IsDir():
			s.system = append(s.system, "--ro-bind", d, d)
		}
	}
	for _, f := range systemFiles {
		s.system = append(s.system, "--ro-bind-try", f, f)
	}
	s.system = append(s.system, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--setenv", "TMPDIR", "/tmp")
	s.passwd, s.group = identity()

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := command{bin: path, dir: "/", grace: time.Second, sandbox: s, mounts: Mounts{ReadOnly: []string{path}}}.run(ctx, "--version")
	if err != nil {
		return nil, fmt.Errorf("bubblewrap (%s) does not run: %w", path, err)
	}
	if out.Code != 0 {
		return nil, fmt.Errorf("bubblewrap (%s) cannot make a sandbox here: %s; allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap; in a container, a seccomp profile that allows clone and mount)",
			path, firstLine(out.Stderr, out.Code))
	}
	return s, nil
}

// identity renders /etc/passwd and /etc/group for the current user alone
// (git and ssh look the user up), with /tmp as home.
func identity() (passwd, group []byte) {
	uid, gid := os.Getuid(), os.Getgid()
	name, gname := "strata", "strata"
	if u, err := user.Current(); err == nil && u.Username != "" && !strings.ContainsAny(u.Username, ":\n") {
		name = u.Username
	}
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil && g.Name != "" && !strings.ContainsAny(g.Name, ":\n") {
		gname = g.Name
	}
	passwd = fmt.Appendf(nil, "%s:x:%d:%d::/tmp:/bin/sh\n", name, uid, gid)
	group = fmt.Appendf(nil, "%s:x:%d:\n", gname, gid)
	return passwd, group
}

func firstLine(stderr []byte, code int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(stderr)), "\n")
	if line == "" {
		return fmt.Sprintf("exit status %d", code)
	}
	return line
}

// jail is one sandboxed process: the pipes strata shares with bwrap and
// the PID, in strata's namespace, of the process bwrap started.
type jail struct {
	infoR      *os.File
	childFiles []*os.File
	pid        atomic.Int64
}

// wrap turns cmd (terraform, with its directory and environment) into a
// bwrap command that runs it in the sandbox, seeing m.
func (s *Sandbox) wrap(cmd *exec.Cmd, m Mounts) (*jail, error) {
	bin, err := filepath.EvalSymlinks(cmd.Path)
	if err != nil {
		return nil, err
	}
	m = m.With(Mounts{ReadOnly: []string{bin}})
	args := append([]string{s.bwrap}, s.system...)
	args = append(args, "--ro-bind-data", strconv.Itoa(passwdFD), "/etc/passwd", "--ro-bind-data", strconv.Itoa(groupFD), "/etc/group")
	for _, mt := range m.list() {
		switch mt.mode {
		case mountReadWrite:
			args = append(args, "--bind", mt.path, mt.path)
		case mountReadOnly:
			args = append(args, "--ro-bind", mt.path, mt.path)
		default:
			args = append(args, "--ro-bind-try", mt.path, mt.path)
		}
	}
	dir := cmd.Dir
	if dir == "" {
		dir = "/"
	}
	args = append(args, "--chdir", dir, "--info-fd", strconv.Itoa(infoFD), "--")
	args = append(args, cmd.Args...)
	args[len(args)-len(cmd.Args)] = bin

	j := &jail{}
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	j.infoR = infoR
	j.childFiles = append(j.childFiles, infoW)
	for _, data := range [][]byte{s.passwd, s.group} {
		r, w, err := os.Pipe()
		if err != nil {
			j.close()
			return nil, err
		}
		// A few hundred bytes: the pipe's buffer holds them until bwrap
		// reads them.
		_, werr := w.Write(data)
		w.Close()
		j.childFiles = append(j.childFiles, r)
		if werr != nil {
			j.close()
			return nil, werr
		}
	}
	cmd.Path, cmd.Args, cmd.Err = s.bwrap, args, nil
	cmd.ExtraFiles = j.childFiles
	return j, nil
}

// started closes strata's copies of the child's pipe ends and reads the
// PID bwrap reports.
func (j *jail) started() {
	for _, f := range j.childFiles {
		f.Close()
	}
	j.childFiles = nil
	go func() {
		data, _ := io.ReadAll(io.LimitReader(j.infoR, 64<<10))
		var info struct {
			Pid int64 `json:"child-pid"`
		}
		if json.Unmarshal(bytes.TrimSpace(data), &info) == nil && info.Pid > 0 {
			j.pid.Store(info.Pid)
		}
	}()
}

// interrupt sends terraform SIGINT, its graceful stop. Before bwrap has
// started it nothing runs in the sandbox yet: bwrap is killed, and
// --die-with-parent takes whatever it began with it.
func (j *jail) interrupt(p *os.Process) error {
	if pid := j.pid.Load(); pid > 0 {
		return syscall.Kill(int(pid), syscall.SIGINT)
	}
	return p.Kill()
}

// close releases the pipes.
func (j *jail) close() {
	for _, f := range j.childFiles {
		f.Close()
	}
	if j.infoR != nil {
		j.infoR.Close()
	}
}
