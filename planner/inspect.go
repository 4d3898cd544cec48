package planner

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"
)

// stackFiles is a stack directory's own Terraform files, parsed.
type stackFiles struct {
	files map[string]*hcl.File // by file name
	// broken is true when a file did not parse: terraform will refuse the
	// stack and say why better than strata could.
	broken bool
}

// backendBlock is a backend or cloud block found in a stack.
type backendBlock struct {
	Type  string          // "s3", "local", …; "cloud" for a cloud block
	Pos   string          // file:line
	Attrs map[string]bool // the arguments the block sets itself
	// LocalPath is the literal path argument of a local backend.
	LocalPath string
}

var (
	rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}}}
	tfSchema   = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "backend", LabelNames: []string{"type"}},
			{Type: "cloud"},
		},
	}
)

// readStackFiles parses every .tf and .tf.json file directly in dir, except
// strata's own generated backend file.
func readStackFiles(dir string) (stackFiles, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return stackFiles{}, err
	}
	sf := stackFiles{files: map[string]*hcl.File{}}
	p := hclparse.NewParser()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == backendFileName || strings.HasPrefix(name, ".") {
			continue
		}
		var f *hcl.File
		var diags hcl.Diagnostics
		switch {
		case strings.HasSuffix(name, ".tf"):
			f, diags = p.ParseHCLFile(filepath.Join(dir, name))
		case strings.HasSuffix(name, ".tf.json"):
			f, diags = p.ParseJSONFile(filepath.Join(dir, name))
		default:
			continue
		}
		if diags.HasErrors() || f == nil {
			sf.broken = true
			continue
		}
		sf.files[name] = f
	}
	return sf, nil
}

// terraformBlocks calls fn with the content of every terraform block, file
// by file in name order.
func (sf stackFiles) terraformBlocks(fn func(name string, c *hcl.BodyContent)) {
	names := make([]string, 0, len(sf.files))
	for n := range sf.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		root, _, _ := sf.files[n].Body.PartialContent(rootSchema)
		for _, b := range root.Blocks {
			c, _, _ := b.Body.PartialContent(tfSchema)
			fn(n, c)
		}
	}
}

// backend returns the stack's backend or cloud block, nil when it has none.
func (sf stackFiles) backend() *backendBlock {
	var found *backendBlock
	sf.terraformBlocks(func(name string, c *hcl.BodyContent) {
		for _, b := range c.Blocks {
			if found != nil {
				return
			}
			found = &backendBlock{Type: "cloud", Pos: pos(b.DefRange), Attrs: map[string]bool{}}
			if b.Type == "backend" {
				found.Type = b.Labels[0]
			}
			attrs, _ := b.Body.JustAttributes()
			for n, a := range attrs {
				found.Attrs[n] = true
				if v, diags := a.Expr.Value(nil); n == "path" && !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
					found.LocalPath = v.AsString()
				}
			}
		}
	})
	return found
}

func pos(r hcl.Range) string {
	return filepath.Base(r.Filename) + ":" + strconv.Itoa(r.Start.Line)
}

// installsProviders reports whether `terraform init` in dir may install
// providers, so must hold the plugin cache lock. Only a stack that provably
// uses nothing but the built-in terraform provider, in itself and in every
// local module it calls, is spared; any doubt (a file that does not parse,
// a remote module, a dependency lock file naming providers) means yes.
func installsProviders(dir string) bool {
	return installsProvidersFrom(dir, map[string]bool{})
}

func installsProvidersFrom(dir string, seen map[string]bool) bool {
	if seen[dir] {
		return false
	}
	seen[dir] = true
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return true
	}
	for name, req := range mod.RequiredProviders {
		if name != "terraform" || (req.Source != "" && req.Source != "terraform.io/builtin/terraform") {
			return true
		}
	}
	for _, pc := range mod.ProviderConfigs {
		if pc.Name != "terraform" {
			return true
		}
	}
	if lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl")); err == nil && bytes.Contains(lock, []byte("provider ")) {
		return true
	}
	for _, mc := range mod.ModuleCalls {
		if !strings.HasPrefix(mc.Source, "./") && !strings.HasPrefix(mc.Source, "../") {
			return true
		}
		if installsProvidersFrom(filepath.Join(dir, filepath.FromSlash(mc.Source)), seen) {
			return true
		}
	}
	return false
}

// localModules returns dir and the directories of the local modules it
// calls, directly or not, each once.
func localModules(dir string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(d string) {
		d = filepath.Clean(d)
		if seen[d] {
			return
		}
		seen[d] = true
		out = append(out, d)
		mod, _ := tfconfig.LoadModule(d)
		if mod == nil {
			return
		}
		calls := make([]string, 0, len(mod.ModuleCalls))
		for _, mc := range mod.ModuleCalls {
			if strings.HasPrefix(mc.Source, "./") || strings.HasPrefix(mc.Source, "../") {
				calls = append(calls, mc.Source)
			}
		}
		sort.Strings(calls)
		for _, s := range calls {
			walk(filepath.Join(d, filepath.FromSlash(s)))
		}
	}
	walk(dir)
	return out
}
