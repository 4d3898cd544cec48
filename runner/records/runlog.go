package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/strata-iac/strata/runner/forge"
	"github.com/strata-iac/strata/runner/store"
)

// Run logs: terraform's output of a run (init, plan, show, apply of each
// stack), one timestamped line at a time, redacted, written next to the
// run's record (LogKey) when it ends and, while it runs, every
// Recorder.LogEvery to ActiveLogKey so its run page can stream it.

// maxLog bounds a run's log; what comes after is counted, not kept.
const maxLog = 16 << 20

// defaultLogEvery is Recorder.LogEvery's default.
const defaultLogEvery = time.Second

// RunLog is the log of one run in progress. It implements planner.LiveLog
// and is safe for concurrent use by the run's stacks.
type RunLog struct {
	rec *Recorder
	key string
	mu  sync.Mutex
	buf bytes.Buffer
	cut int // bytes dropped past maxLog
	gen int // bumped by every write
	// writers are the stacks' writers, one per stack instance, so that a
	// line cut between two writes stays one line.
	writers map[string]*stackWriter
	done    chan struct{}
	stop    context.CancelFunc
}

// RunLog returns the log of rec, a run this Recorder started, creating it on
// first use; its content is written under ActiveLogKey while the run goes
// on and under LogKey by Finish.
func (r *Recorder) RunLog(ctx context.Context, rec *Record) *RunLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.logs[rec.ID]; l != nil {
		return l
	}
	if r.logs == nil {
		r.logs = map[string]*RunLog{}
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &RunLog{rec: r, key: ActiveLogKey(rec.ID), done: make(chan struct{}), stop: stop}
	r.logs[rec.ID] = l
	every := r.LogEvery
	if every <= 0 {
		every = defaultLogEvery
	}
	go l.flushEvery(lctx, every)
	return l
}

// Printf adds a line of strata's own to the log.
func (l *RunLog) Printf(format string, args ...any) {
	l.line("strata", fmt.Sprintf(format, args...))
}

// Stack is the writer of one stack instance's output: each line it is
// given is logged with the time and the stack's name. The same stack
// gets the same writer.
func (l *RunLog) Stack(dir, workspace string) io.Writer {
	name := dir
	if workspace != "" && workspace != "default" {
		name += "@" + workspace
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.writers[name]; w != nil {
		return w
	}
	if l.writers == nil {
		l.writers = map[string]*stackWriter{}
	}
	w := &stackWriter{log: l, name: name}
	l.writers[name] = w
	return w
}

func (l *RunLog) line(name, text string) {
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	if l.buf.Len() >= maxLog {
		l.cut += len(text) + 1
		return
	}
	fmt.Fprintf(&l.buf, "%s %s | %s\n", stamp, name, strings.TrimRight(text, "\r"))
}

// content is the log so far, redacted, and its generation.
func (l *RunLog) content() ([]byte, int) {
	l.mu.Lock()
	data := bytes.Clone(l.buf.Bytes())
	if l.cut > 0 {
		data = fmt.Appendf(data, "… %d more bytes of output not kept (the log keeps %d MiB)\n", l.cut, maxLog>>20)
	}
	gen := l.gen
	l.mu.Unlock()
	return l.rec.Redactor.Bytes(data), gen
}

func (l *RunLog) flushEvery(ctx context.Context, every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	written := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, gen := l.content()
		if gen == written {
			continue
		}
		if _, err := l.rec.Store.Put(ctx, l.key, data); err != nil {
			if ctx.Err() != nil {
				return
			}
			l.rec.Log.Warn("run log: cannot write", "key", l.key, "err", err)
			continue
		}
		written = gen
	}
}

// closeLog ends the log of run rec, writes it under LogKey and removes
// the one of the run in progress; a run that logged nothing has no log.
func (r *Recorder) closeLog(ctx context.Context, rec *Record) {
	r.mu.Lock()
	l := r.logs[rec.ID]
	delete(r.logs, rec.ID)
	r.mu.Unlock()
	var data []byte
	if l != nil {
		l.stop()
		<-l.done
		data, _ = l.content()
	} else {
		// Another replica's run, closed as interrupted: keep what it
		// streamed before it stopped.
		var err error
		if data, err = r.Store.Get(ctx, ActiveLogKey(rec.ID)); err != nil {
			return
		}
	}
	if len(data) > 0 {
		if _, err := r.Store.Put(ctx, LogKey(rec.RepoRef(), rec.ID), data); err != nil {
			r.Log.Error("run log: cannot write", "run", rec.ID, "err", err)
			return
		}
		rec.Log = LogKey(rec.RepoRef(), rec.ID)
	}
	if err := r.Store.Delete(ctx, ActiveLogKey(rec.ID)); err != nil {
		r.Log.Warn("run log: cannot clear the log of the run in progress", "run", rec.ID, "err", err)
	}
}

// ReadLog returns the log of run id of repo: the finished run's, else the
// one in progress (active true). A run without a log gives ErrNotFound.
func ReadLog(ctx context.Context, st store.Store, repo forge.RepoRef, id string) (data []byte, active bool, err error) {
	data, err = st.Get(ctx, LogKey(repo, id))
	if errors.Is(err, store.ErrNotFound) {
		data, err = st.Get(ctx, ActiveLogKey(id))
		if err == nil {
			return data, true, nil
		}
	}
	return data, false, err
}

// stackWriter splits a stack's output into lines.
type stackWriter struct {
	log     *RunLog
	name    string
	mu      sync.Mutex
	partial []byte
}

func (w *stackWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.log.line(w.name, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 {
		w.log.line(w.name, string(w.partial))
		w.partial = nil
	}
	return len(p), nil
}
