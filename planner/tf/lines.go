package tf

import "bytes"

// lineWriter passes what is written to it to fn one whole line at a time,
// without its newline, as terraform prints it; the rest of a line waits
// for its end. It is the writer of one process's output, written from one
// goroutine.
type lineWriter struct {
	fn      func(line string)
	pending []byte
}

// maxPending bounds a line kept waiting for its end; a longer one is
// passed on in pieces.
const maxPending = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.pending = append(w.pending, p...)
			if len(w.pending) > maxPending {
				w.flush()
			}
			break
		}
		w.pending = append(w.pending, p[:i]...)
		w.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	w.fn(string(bytes.TrimSuffix(w.pending, []byte("\r"))))
	w.pending = w.pending[:0]
}
