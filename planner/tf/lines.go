package tf

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

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

// uiText is a writer for a run's live log: each line of terraform's
// machine-readable UI goes to w as the text it holds (its @message), so
// the log reads as terraform's output for people does; any other line
// goes as it is. Close passes on a last line without its newline.
type uiText struct{ lineWriter }

func newUIText(w io.Writer) *uiText {
	return &uiText{lineWriter{fn: func(line string) {
		if strings.HasPrefix(line, "{") {
			var m struct {
				Message string `json:"@message"`
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Message != "" {
				line = m.Message
			}
		}
		_, _ = io.WriteString(w, line+"\n")
	}}}
}

// Close writes what is left of the last line.
func (u *uiText) Close() {
	if len(u.pending) > 0 {
		u.flush()
	}
}
