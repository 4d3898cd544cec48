package tf

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// uiMessage is one line of terraform's machine-readable UI, printed with
// -json by init, plan and apply (Terraform and OpenTofu alike):
//
//	{"@level":"error","@message":"Error: Unsupported argument","type":"diagnostic",
//	 "diagnostic":{"severity":"error","summary":"…","detail":"…","address":"…",
//	               "range":{"filename":"main.tf","start":{"line":2,…},…}}}
type uiMessage struct {
	Message    string        `json:"@message"`
	Type       string        `json:"type"`
	Diagnostic *uiDiagnostic `json:"diagnostic"`
}

type uiDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Range    *struct {
		Filename string `json:"filename"`
		Start    struct {
			Line int `json:"line"`
		} `json:"start"`
	} `json:"range"`
}

// UI is what a command run with -json printed.
type UI struct {
	// Text is the human text of every message but the diagnostics and the
	// version banner, line by line in order: the progress lines and
	// summaries terraform prints for people (a plan's diff is not among
	// them). A line that is not JSON is kept as it is.
	Text string
	// Summary is the change summary ("Plan: 1 to add, 0 to change, 0 to
	// destroy."), "" when there was none.
	Summary     string
	Diagnostics []Diagnostic
}

// ReadJSONUI reads the machine-readable UI of init, plan or apply.
func ReadJSONUI(stdout []byte) UI {
	var ui UI
	var lines []string
	for _, raw := range bytes.Split(stdout, []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var m uiMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			lines = append(lines, string(raw))
			continue
		}
		switch {
		case m.Type == "diagnostic" && m.Diagnostic != nil:
			ui.Diagnostics = append(ui.Diagnostics, m.Diagnostic.diagnostic())
		case m.Type == "version":
		default:
			if m.Type == "change_summary" {
				ui.Summary = m.Message
			}
			lines = append(lines, m.Message)
		}
	}
	if len(lines) > 0 {
		ui.Text = strings.Join(lines, "\n") + "\n"
	}
	return ui
}

func (d *uiDiagnostic) diagnostic() Diagnostic {
	out := Diagnostic{Severity: d.Severity, Summary: strings.TrimSpace(d.Summary), Detail: strings.TrimSpace(d.Detail)}
	if d.Range != nil && d.Range.Filename != "" {
		out.Range = d.Range.Filename + ":" + strconv.Itoa(d.Range.Start.Line)
	}
	return out
}
