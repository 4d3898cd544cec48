package tf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Output is what one terraform command printed and how it exited.
type Output struct {
	Stdout, Stderr []byte
	// Code is the exit status; -1 when terraform did not exit on its own.
	Code int
}

// command is how terraform is started: which binary, in which directory,
// with which environment, and how long an interrupted terraform may take
// to stop.
type command struct {
	bin   string
	dir   string
	env   []string
	grace time.Duration
	// observe, when set, is given each line of standard output as
	// terraform prints it (the output is also kept whole).
	observe func(line string)
	// sandbox, when set, runs terraform in it, seeing mounts (and its own
	// binary).
	sandbox *Sandbox
	mounts  Mounts
	// stdoutTee and stderrTee, when set, also receive what terraform
	// prints, as it prints it.
	stdoutTee, stderrTee io.Writer
}

// run starts terraform with args and waits for it.
//
// When ctx ends (Ctrl-C, per-stack timeout) terraform gets exactly one
// SIGINT, its graceful stop: it finishes or abandons the operation in
// flight, writes state and releases its state lock. Only when it has not
// exited after the grace period is it killed. Terraform runs in a process
// group of its own so that a Ctrl-C typed in strata's terminal reaches
// strata alone: a second SIGINT delivered by the terminal would make
// terraform exit at once, leaving the lock held. On Linux, when strata
// itself dies, the kernel sends terraform SIGTERM, which terraform also
// treats as a graceful stop (process_linux.go; other systems lack it).
//
// A non-zero exit is not an error: the caller reads Output.Code (plan's
// -detailed-exitcode makes 2 a success). The error reports a terraform
// that could not start, or ctx's error when ctx ended.
//
// In a sandbox, bwrap starts terraform and passes on no signal: the
// interrupt goes to terraform itself, by the PID bwrap reports, and a
// kill of bwrap's group takes the sandbox with it (--die-with-parent).
// Should strata die, bwrap gets the parent-death signal and the kernel
// kills terraform at once, without the graceful stop.
func (c command) run(ctx context.Context, args ...string) (Output, error) {
	if err := ctx.Err(); err != nil {
		return Output{Code: -1}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	var observe io.Writer
	if c.observe != nil {
		observe = &lineWriter{fn: c.observe}
	}
	cmd.Stdout = tee(&stdout, c.stdoutTee, observe)
	cmd.Stderr = tee(&stderr, c.stderrTee)
	cmd.SysProcAttr = sysProcAttr()
	stop, started := interrupt, func() {}
	if c.sandbox != nil {
		j, err := c.sandbox.wrap(cmd, c.mounts)
		if err != nil {
			return Output{Code: -1}, fmt.Errorf("sandbox %s: %w", c.bin, err)
		}
		defer j.close()
		stop, started = j.interrupt, j.started
	}
	cmd.Cancel = func() error { return stop(cmd.Process) }
	cmd.WaitDelay = c.grace
	err := cmd.Start()
	if err == nil {
		started()
		err = cmd.Wait()
	}
	out := Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Code: -1}
	if cmd.ProcessState != nil {
		out.Code = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		if cmd.Process != nil {
			// Whatever terraform left running in its group (a
			// provisioner's command, a provider) goes with it.
			killGroup(cmd.Process)
		}
		return out, ctx.Err()
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.As(err, &exitErr):
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil:
		// terraform exited; something it started in the background
		// still held its output open and was cut off after the grace.
	default:
		return out, fmt.Errorf("run %s: %w", c.bin, err)
	}
	return out, nil
}

// interrupt asks a process to stop gracefully where the system can.
func interrupt(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

func tee(buf *bytes.Buffer, also ...io.Writer) io.Writer {
	ws := []io.Writer{buf}
	for _, w := range also {
		if w != nil {
			ws = append(ws, w)
		}
	}
	if len(ws) == 1 {
		return buf
	}
	return io.MultiWriter(ws...)
}
