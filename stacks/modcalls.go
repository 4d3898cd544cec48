package stacks

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// fileCalls is what change detection needs from one Terraform file: the
// local module sources it calls, or why it could not be read.
type fileCalls struct {
	Sources []string // local sources ("./x", "../y") in file order
	ErrLine int      // line of the first parse error
	Err     string   // first parse error; "" when the file parsed
}

// parseModuleCalls extracts the local module sources of one .tf or .tf.json
// file. name only decides the syntax and labels diagnostics. It never
// panics, whatever the input.
func parseModuleCalls(name string, src []byte) (fc fileCalls) {
	defer func() {
		if p := recover(); p != nil {
			fc = fileCalls{ErrLine: 1, Err: fmt.Sprintf("the HCL parser failed on this file: %v", p)}
		}
	}()
	if !bytes.Contains(src, []byte("module")) {
		// No module block can exist without the word; skipping the parse
		// is what makes a cold scan of a large monorepo fast.
		return fileCalls{}
	}
	var body hcl.Body
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		var f *hcl.File
		f, diags = hcljson.Parse(src, name)
		if f != nil {
			body = f.Body
		}
	} else {
		var f *hcl.File
		f, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if f != nil {
			body = f.Body
		}
	}
	if diags.HasErrors() {
		return diagCalls(diags)
	}
	content, _, diags := body.PartialContent(&hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "module", LabelNames: []string{"name"}}},
	})
	if diags.HasErrors() {
		return diagCalls(diags)
	}
	for _, b := range content.Blocks {
		attrs, _, diags := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}}})
		if diags.HasErrors() {
			return diagCalls(diags)
		}
		attr, ok := attrs.Attributes["source"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			continue // Terraform requires a literal string; it will say so at plan time
		}
		if src := v.AsString(); isLocalSource(src) {
			fc.Sources = append(fc.Sources, src)
		}
	}
	return fc
}

func diagCalls(diags hcl.Diagnostics) fileCalls {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		line := 1
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		return fileCalls{ErrLine: line, Err: msg}
	}
	return fileCalls{}
}

// isLocalSource reports whether a module source is a local path, which
// Terraform recognises by its "./" or "../" prefix.
func isLocalSource(src string) bool {
	return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") ||
		strings.HasPrefix(src, `.\`) || strings.HasPrefix(src, `..\`)
}

// resolveSource returns the repo-relative directory a local source in dir
// points to; ok is false when it leaves the repository.
func resolveSource(dir, src string) (string, bool) {
	p := path.Clean(path.Join(dir, strings.ReplaceAll(src, `\`, "/")))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}
