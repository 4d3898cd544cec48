package fault

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic turned into an error: a bug in strata met on one
// piece of work. It is permanent: the same input panics again, so the work
// is given up (and reported) rather than retried, and the process goes on.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack where it panicked.
	Stack []byte
}

func (p *PanicError) Error() string {
	if err, ok := p.Value.(error); ok {
		return "strata failed unexpectedly (a bug in strata): " + err.Error()
	}
	return fmt.Sprintf("strata failed unexpectedly (a bug in strata): %v", p.Value)
}

// Permanent implements what IsPermanent looks for.
func (p *PanicError) Permanent() bool { return true }

// Panicked wraps a value recovered from a panic with the stack where it
// happened. Call it in the deferred function that recovered, so the stack
// still holds the panic's origin. A value that already is a *PanicError
// (re-panicked by an inner handler that settled its own part) is returned
// as it is, keeping the original stack.
func Panicked(v any) *PanicError {
	if p, ok := v.(*PanicError); ok {
		return p
	}
	return &PanicError{Value: v, Stack: debug.Stack()}
}
