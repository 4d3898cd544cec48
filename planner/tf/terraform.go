package tf

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Terraform runs terraform (or tofu) commands in one directory, with one
// environment, as tfexec's Terraform does; each command has a file of its
// own (init.go, plan.go, …). It is for one run of one stack and is not
// safe for concurrent use.
type Terraform struct {
	bin  *Binary
	cmd  command
	log  io.Writer
	live io.Writer
}

// Options configure a Terraform.
type Options struct {
	// Dir is the working directory: the stack's directory.
	Dir string
	// Env is terraform's whole environment (see Environ).
	Env []string
	// Grace is how long an interrupted terraform may take to stop before
	// it is killed; default one minute.
	Grace time.Duration
	// Log receives every command line and what the command printed; nil
	// discards them.
	Log io.Writer
	// Observe, when set, is given each line a command prints on standard
	// output as it prints it, for progress reports. It is called from the
	// goroutine that copies the output.
	Observe func(line string)
	// Sandbox, when set, runs every command in it, seeing Mounts (and the
	// binary). Everything terraform reads or writes must be in Mounts: the
	// working directory, TF_DATA_DIR, the plugin cache, the CLI config,
	// the local state, the plan file.
	Sandbox *Sandbox
	Mounts  Mounts
	// Live, when set, receives the same as Log while it happens: each
	// command line as the command starts, then its output as terraform
	// prints it (a run's log, streamed while it runs).
	Live io.Writer
}

// New returns a Terraform that runs bin with opts.
func New(bin *Binary, opts Options) *Terraform {
	if opts.Grace <= 0 {
		opts.Grace = time.Minute
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Terraform{
		bin: bin,
		cmd: command{bin: bin.Path, dir: opts.Dir, env: slices.Clip(opts.Env), grace: opts.Grace, observe: opts.Observe,
			sandbox: opts.Sandbox, mounts: opts.Mounts},
		log:  opts.Log,
		live: opts.Live,
	}
}

// Binary is the binary t runs.
func (t *Terraform) Binary() *Binary { return t.bin }

// exec runs one command and logs it. A command whose standard output is
// data (show -json) logs its size rather than the data, and is not
// observed.
func (t *Terraform) exec(ctx context.Context, dataOut bool, args ...string) (Output, error) {
	return t.execIn(ctx, t.cmd, dataOut, args...)
}

// execIn is exec with a command of its own (init's extra mounts).
func (t *Terraform) execIn(ctx context.Context, c command, dataOut bool, args ...string) (Output, error) {
	line := fmt.Sprintf("$ %s %s\n", t.bin.Name, strings.Join(args, " "))
	if dataOut {
		c.observe = nil // data, not progress
	}
	var text *uiText
	if t.live != nil {
		_, _ = io.WriteString(t.live, line)
		c.stderrTee = t.live
		if !dataOut {
			text = newUIText(t.live)
			c.stdoutTee = text
		}
	}
	out, err := c.run(ctx, args...)
	if text != nil {
		text.Close()
	}
	var tail strings.Builder
	if dataOut {
		fmt.Fprintf(&tail, "(%d bytes of JSON)\n", len(out.Stdout))
	}
	if out.Code > 0 {
		fmt.Fprintf(&tail, "(exit status %d)\n", out.Code)
	}
	_, _ = io.WriteString(t.log, line)
	if !dataOut {
		_, _ = t.log.Write(out.Stdout)
	}
	_, _ = t.log.Write(out.Stderr)
	_, _ = io.WriteString(t.log, tail.String())
	if t.live != nil {
		_, _ = io.WriteString(t.live, tail.String())
	}
	return out, err
}
