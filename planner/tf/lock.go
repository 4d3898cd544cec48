package tf

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LockInfo is a state lock as terraform describes it (its "Lock Info"
// block).
type LockInfo struct {
	ID        string
	Path      string
	Operation string // e.g. "OperationTypeApply"
	Who       string // user@host of the process that took it
	Version   string // the terraform version that took it
	Created   time.Time
}

// StateLock reports who holds the state lock of the stack, nil when it is
// free. It runs a plan that does not refresh and waits at most wait for
// the lock: with the lock still held, terraform stops and describes the
// lock; with it free, the plan runs and lets it go. Any other failure is an
// error, as then nothing is known of the lock.
func (t *Terraform) StateLock(ctx context.Context, wait time.Duration) (*LockInfo, Output, error) {
	out, err := t.exec(ctx, false, "plan", "-input=false", "-no-color", "-refresh=false", "-lock-timeout="+wait.String())
	if err != nil {
		return nil, out, err
	}
	if info, ok := ParseLockInfo(string(out.Stderr)); ok {
		return info, out, nil
	}
	if out.Code != 0 {
		return nil, out, fmt.Errorf("terraform plan exited with status %d", out.Code)
	}
	return nil, out, nil
}

// ForceUnlock releases the state lock id, whoever holds it: call it only
// for a lock known to be strata's own.
func (t *Terraform) ForceUnlock(ctx context.Context, id string) (Output, error) {
	return t.exec(ctx, false, "force-unlock", "-force", "-no-color", id)
}

// ParseLockInfo reads the "Lock Info:" block terraform prints when it
// cannot take the state lock (its box-drawing borders removed); ok is false
// when there is none.
func ParseLockInfo(text string) (*LockInfo, bool) {
	i := strings.Index(text, "Lock Info:")
	if i < 0 {
		return nil, false
	}
	info := &LockInfo{}
	for _, line := range strings.Split(text[i:], "\n")[1:] {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "│"))
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			if line == "" {
				continue
			}
			break
		}
		value = strings.TrimSpace(value)
		switch key {
		case "ID":
			info.ID = value
		case "Path":
			info.Path = value
		case "Operation":
			info.Operation = value
		case "Who":
			info.Who = value
		case "Version":
			info.Version = value
		case "Created":
			info.Created, _ = time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", value)
		case "Info":
			return info, info.ID != ""
		}
	}
	return info, info.ID != ""
}
