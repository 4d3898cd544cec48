package planner

import (
	"context"
	"io"
)

// LiveLog receives terraform's output of a run while it happens, one
// writer per stack instance: the command lines and what terraform prints,
// as it prints it. The server keeps it as the run's log (package
// runner/records), streamed to its run page.
type LiveLog interface {
	Stack(dir, workspace string) io.Writer
}

type liveLogKey struct{}

// WithLiveLog makes the plans and applies run under ctx write to l.
func WithLiveLog(ctx context.Context, l LiveLog) context.Context {
	return context.WithValue(ctx, liveLogKey{}, l)
}

// liveWriter is the writer of stack dir@workspace of ctx's LiveLog, or nil.
func liveWriter(ctx context.Context, dir, workspace string) io.Writer {
	l, _ := ctx.Value(liveLogKey{}).(LiveLog)
	if l == nil {
		return nil
	}
	return l.Stack(dir, workspace)
}
