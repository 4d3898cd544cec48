package stacks

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
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

// parseModuleCalls extracts the local module sources of one Terraform file
// (.tf, .tofu, or their .json forms). name only decides the syntax and
// labels diagnostics. A file that does not parse gets an error and the
// sources textCalls finds in it. It never panics, whatever the input.
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
		return diagCalls(name, src, diags)
	}
	content, _, diags := body.PartialContent(&hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{{Type: "module", LabelNames: []string{"name"}}},
	})
	if diags.HasErrors() {
		return diagCalls(name, src, diags)
	}
	for _, b := range content.Blocks {
		attrs, _, diags := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}}})
		if diags.HasErrors() {
			return diagCalls(name, src, diags)
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

// diagCalls is the result for a file that does not parse: its first error,
// and the local sources its text still shows.
func diagCalls(name string, src []byte, diags hcl.Diagnostics) fileCalls {
	fc := fileCalls{ErrLine: 1, Err: "invalid file", Sources: textCalls(name, src)}
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
		fc.ErrLine, fc.Err = line, msg
		break
	}
	return fc
}

// jsonSource matches a local module source in JSON syntax.
var jsonSource = regexp.MustCompile(`"source"\s*:\s*"(\.\.?[/\\][^"\\]*)"`)

// textCalls finds the local module sources of a file that does not parse
// from its text: in native syntax, a source = "…" attribute directly in a
// module block, told by the tokens (so comments do not count); in JSON, any
// "source": "…" member. The modules a broken file most likely calls thus
// stay modules, and changes to them still reach its callers.
func textCalls(name string, src []byte) []string {
	var out []string
	if strings.HasSuffix(name, ".json") {
		for _, m := range jsonSource.FindAllSubmatch(src, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	var toks []hclsyntax.Token
	all, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	for _, t := range all {
		if t.Type != hclsyntax.TokenComment && t.Type != hclsyntax.TokenNewline {
			toks = append(toks, t)
		}
	}
	is := func(i int, typ hclsyntax.TokenType, text string) bool {
		return i < len(toks) && toks[i].Type == typ && (text == "" || string(toks[i].Bytes) == text)
	}
	depth, moduleDepth := 0, -1
	for i := 0; i < len(toks); i++ {
		switch {
		case is(i, hclsyntax.TokenOBrace, ""):
			depth++
		case is(i, hclsyntax.TokenCBrace, ""):
			if depth--; depth < moduleDepth {
				moduleDepth = -1
			}
		case is(i, hclsyntax.TokenIdent, "module") && moduleDepth < 0:
			j := i + 1
			for is(j, hclsyntax.TokenIdent, "") || is(j, hclsyntax.TokenOQuote, "") && is(j+1, hclsyntax.TokenQuotedLit, "") && is(j+2, hclsyntax.TokenCQuote, "") {
				if is(j, hclsyntax.TokenIdent, "") {
					j++
				} else {
					j += 3
				}
			}
			if j > i+1 && is(j, hclsyntax.TokenOBrace, "") {
				depth++
				moduleDepth = depth
				i = j
			}
		case depth == moduleDepth && is(i, hclsyntax.TokenIdent, "source") && is(i+1, hclsyntax.TokenEqual, "") &&
			is(i+2, hclsyntax.TokenOQuote, "") && is(i+3, hclsyntax.TokenQuotedLit, "") && is(i+4, hclsyntax.TokenCQuote, ""):
			if s := string(toks[i+3].Bytes); isLocalSource(s) {
				out = append(out, s)
			}
			i += 4
		}
	}
	return out
}

// isLocalSource reports whether a module source is a local path, which
// Terraform recognises by its "./" or "../" prefix.
func isLocalSource(src string) bool {
	return strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../") ||
		strings.HasPrefix(src, `.\`) || strings.HasPrefix(src, `..\`)
}

// resolveSource returns the repo-relative directory a local source in dir
// points to, cleaned as Terraform cleans it (lexically, before any symlink
// is followed); ok is false when it leaves the repository.
func resolveSource(dir, src string) (string, bool) {
	src = strings.ReplaceAll(src, `\`, "/")
	if p, ok, fast := joinClean(dir, src); fast {
		return p, ok
	}
	p := path.Join(dir, src)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// joinClean is path.Join for the usual source, leading "./" and "../"
// then a clean path, without its allocations; fast is false for any other
// source.
func joinClean(dir, src string) (p string, ok, fast bool) {
	if dir == "." {
		dir = ""
	}
	for {
		switch {
		case strings.HasPrefix(src, "../") || src == "..":
			if dir == "" {
				return "", false, true
			}
			dir = dir[:max(strings.LastIndexByte(dir, '/'), 0)]
			src = strings.TrimPrefix(strings.TrimPrefix(src, ".."), "/")
			continue
		case strings.HasPrefix(src, "./") || src == ".":
			src = strings.TrimPrefix(strings.TrimPrefix(src, "."), "/")
			continue
		}
		break
	}
	for rest := src; rest != ""; {
		part := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
			if rest == "" {
				return "", false, false // a trailing slash
			}
		} else {
			rest = ""
		}
		if part == "" || part == "." || part == ".." {
			return "", false, false
		}
	}
	switch {
	case src == "" && dir == "":
		return ".", true, true
	case src == "":
		return dir, true, true
	case dir == "":
		return src, true, true
	}
	return dir + "/" + src, true, true
}
