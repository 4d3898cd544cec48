package tf

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	hcl1 "github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/strata-iac/strata/internal/atomicfile"
)

// CLIConfigSource is a piece of terraform CLI configuration to merge into
// strata's: the operator's own file, or settings given in code.
type CLIConfigSource struct {
	// Name names it in errors: a file's path.
	Name    string
	Content []byte
}

// CLIConfig is the CLI configuration strata wrote for terraform.
type CLIConfig struct {
	// Path is the file (TF_CLI_CONFIG_FILE of every terraform).
	Path string
	// MirrorDirs are the filesystem_mirror directories it names, which the
	// sandbox shows read-only.
	MirrorDirs []string
	// Secrets are the tokens of its credentials blocks, for the redactor.
	Secrets []string
}

// OperatorCLIConfig reads the CLI configuration terraform itself would
// read in env: TF_CLI_CONFIG_FILE, else TERRAFORM_CONFIG, else
// $HOME/.terraformrc. A file that does not exist is no configuration (as
// development machines set TF_CLI_CONFIG_FILE to a missing file); nil
// then.
func OperatorCLIConfig(env []string) (*CLIConfigSource, error) {
	get := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	path := get("TF_CLI_CONFIG_FILE")
	if path == "" {
		path = get("TERRAFORM_CONFIG")
	}
	if path == "" {
		home := get("HOME")
		if home == "" {
			return nil, nil
		}
		path = filepath.Join(home, ".terraformrc")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("terraform CLI configuration: %w", err)
	}
	return &CLIConfigSource{Name: path, Content: data}, nil
}

// Settings of a CLI configuration strata leaves out, because it owns
// them: the plugin cache is strata's, shared and locked, and update checks
// are always off.
var ownedSettings = map[string]bool{
	"plugin_cache_dir": true, "plugin_cache_may_break_dependency_lock_file": true,
	"disable_checkpoint": true, "disable_checkpoint_signature": true,
}

// cliBlock is a block of the merged configuration: its type, labels and
// attributes in source order.
type cliBlock struct {
	typ    string
	labels []string
	attrs  []cliAttr
	blocks []cliBlock
	from   string
}

type cliAttr struct {
	name  string
	value cty.Value
}

// WriteCLIConfig writes strata's CLI configuration into dir and returns
// it: the plugin cache, no update check, the credentials, credentials
// helpers and hosts of sources, and their provider_installation block, or
// `provider_installation { direct {} }` when none has one. The block is
// always explicit, so terraform never uses an implied local mirror (such
// as a terraform.d/plugins directory committed in a stack). The file name
// carries a hash of the content, so strata processes with different
// settings never overwrite each other's file; it is written 0600 (it may
// hold tokens) through a rename, so no terraform reads half a file.
func WriteCLIConfig(dir, pluginCacheDir string, sources ...CLIConfigSource) (CLIConfig, error) {
	var cfg CLIConfig
	var blocks []cliBlock
	var installation *cliBlock
	seen := map[string]string{}
	for _, src := range sources {
		got, err := parseCLIConfig(src)
		if err != nil {
			return cfg, err
		}
		for _, b := range got {
			key := b.typ + " " + strings.Join(b.labels, " ")
			if prev, dup := seen[key]; dup {
				return cfg, fmt.Errorf("terraform CLI configuration: %s is set both in %s and in %s; keep one", strings.TrimSpace(key), prev, b.from)
			}
			seen[key] = b.from
			if b.typ == "provider_installation" {
				installation = &b
				continue
			}
			blocks = append(blocks, b)
		}
	}
	if installation == nil {
		installation = &cliBlock{typ: "provider_installation", blocks: []cliBlock{{typ: "direct"}}}
	}
	for _, m := range installation.blocks {
		for _, a := range m.attrs {
			if m.typ == "filesystem_mirror" && a.name == "path" && a.value.Type() == cty.String && a.value.IsKnown() {
				p := a.value.AsString()
				if !filepath.IsAbs(p) {
					return cfg, fmt.Errorf("terraform CLI configuration %s: filesystem_mirror path %q must be absolute: strata runs terraform in throwaway directories", installation.from, p)
				}
				cfg.MirrorDirs = append(cfg.MirrorDirs, filepath.Clean(p))
			}
		}
	}
	cfg.Secrets = credentialTokens(blocks)
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.SetAttributeValue("plugin_cache_dir", cty.StringVal(pluginCacheDir))
	body.SetAttributeValue("disable_checkpoint", cty.True)
	for _, b := range append(blocks, *installation) {
		body.AppendNewline()
		writeBlock(body, b)
	}
	content := "# Written by strata: the CLI configuration of every terraform it runs.\n" + string(hclwrite.Format(f.Bytes()))
	sum := sha256.Sum256([]byte(content))
	cfg.Path = filepath.Join(dir, "terraformrc-"+hex.EncodeToString(sum[:6]))
	if existing, err := os.ReadFile(cfg.Path); err == nil && string(existing) == content {
		return cfg, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cfg, fmt.Errorf("terraform CLI config: %w", err)
	}
	if err := atomicfile.Write(cfg.Path, []byte(content), 0o600); err != nil {
		return cfg, fmt.Errorf("terraform CLI config: %w", err)
	}
	return cfg, nil
}

// CLIConfigSecrets checks src as WriteCLIConfig would read it and returns
// the tokens of its credentials blocks.
func CLIConfigSecrets(src CLIConfigSource) ([]string, error) {
	blocks, err := parseCLIConfig(src)
	if err != nil {
		return nil, err
	}
	return credentialTokens(blocks), nil
}

// credentialTokens are the string values of credentials blocks.
func credentialTokens(blocks []cliBlock) []string {
	var out []string
	for _, b := range blocks {
		if b.typ != "credentials" {
			continue
		}
		for _, a := range b.attrs {
			if a.value.Type() == cty.String && a.value.IsKnown() && !a.value.IsNull() {
				out = append(out, a.value.AsString())
			}
		}
	}
	return out
}

func writeBlock(body *hclwrite.Body, b cliBlock) {
	inner := body.AppendNewBlock(b.typ, b.labels).Body()
	for _, a := range b.attrs {
		inner.SetAttributeValue(a.name, a.value)
	}
	for _, c := range b.blocks {
		writeBlock(inner, c)
	}
}

// parseCLIConfig reads the blocks strata merges from one source, with
// HCL 1 as terraform reads its CLI configuration (native syntax or JSON).
func parseCLIConfig(src CLIConfigSource) ([]cliBlock, error) {
	fail := func(line int, format string, args ...any) error {
		at := src.Name
		if line > 0 {
			at += ":" + strconv.Itoa(line)
		}
		return fmt.Errorf("terraform CLI configuration %s: %s", at, fmt.Sprintf(format, args...))
	}
	file, err := hcl1.Parse(string(src.Content))
	if err != nil {
		return nil, fail(0, "%v", err)
	}
	top, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return nil, fail(0, "not a CLI configuration")
	}
	var out []cliBlock
	for _, item := range top.Items {
		name := keyName(item.Keys[0])
		line := item.Pos().Line
		switch {
		case ownedSettings[name]:
			continue
		case name == "credentials" || name == "credentials_helper" || name == "host":
			labelled, ok := children(item)
			if !ok {
				return nil, fail(line, "%s must be a block with a label", name)
			}
			for _, c := range labelled.Items {
				attrs, err := itemAttrs(c)
				if err != nil {
					return nil, fail(line, "%s %q: %v", name, keyName(c.Keys[0]), err)
				}
				out = append(out, cliBlock{typ: name, labels: []string{keyName(c.Keys[0])}, attrs: attrs, from: src.Name})
			}
		case name == "provider_installation":
			methods, ok := children(item)
			if !ok {
				return nil, fail(line, "provider_installation must be a block")
			}
			b := cliBlock{typ: name, from: src.Name}
			for _, m := range methods.Items {
				kind := keyName(m.Keys[0])
				switch kind {
				case "filesystem_mirror", "network_mirror", "direct":
				case "dev_overrides":
					return nil, fail(m.Pos().Line, "dev_overrides is for developing providers; strata runs only installed providers, remove it")
				default:
					return nil, fail(m.Pos().Line, "unknown installation method %q in provider_installation", kind)
				}
				attrs, err := itemAttrs(m)
				if err != nil {
					return nil, fail(m.Pos().Line, "%s: %v", kind, err)
				}
				b.blocks = append(b.blocks, cliBlock{typ: kind, attrs: attrs, from: src.Name})
			}
			out = append(out, b)
		default:
			return nil, fail(line, "unknown setting %q (strata merges credentials, credentials_helper, host and provider_installation into its own)", name)
		}
	}
	return out, nil
}

// children returns what an item holds after its first key: HCL writes a
// block `credentials "h" { … }` as one item with two keys, JSON as nested
// objects, sometimes in arrays; all come out as one list of items.
func children(item *ast.ObjectItem) (*ast.ObjectList, bool) {
	if len(item.Keys) > 1 {
		return &ast.ObjectList{Items: []*ast.ObjectItem{{Keys: item.Keys[1:], Val: item.Val}}}, true
	}
	switch v := item.Val.(type) {
	case *ast.ObjectType:
		return v.List, true
	case *ast.ListType:
		list := &ast.ObjectList{}
		for _, e := range v.List {
			o, ok := e.(*ast.ObjectType)
			if !ok {
				return nil, false
			}
			list.Items = append(list.Items, o.List.Items...)
		}
		return list, true
	}
	return nil, false
}

// itemAttrs reads the attributes of a block, in source order.
func itemAttrs(item *ast.ObjectItem) ([]cliAttr, error) {
	body, ok := children(item)
	if !ok {
		return nil, errors.New("want a block")
	}
	var out []cliAttr
	for _, a := range body.Items {
		v, err := ctyOf(a.Val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyName(a.Keys[0]), err)
		}
		for i := len(a.Keys) - 1; i > 0; i-- {
			v = cty.ObjectVal(map[string]cty.Value{keyName(a.Keys[i]): v})
		}
		out = append(out, cliAttr{name: keyName(a.Keys[0]), value: v})
	}
	return out, nil
}

// ctyOf converts an HCL 1 value.
func ctyOf(n ast.Node) (cty.Value, error) {
	switch v := n.(type) {
	case *ast.LiteralType:
		switch x := v.Token.Value().(type) {
		case string:
			return cty.StringVal(x), nil
		case bool:
			return cty.BoolVal(x), nil
		case int64:
			return cty.NumberIntVal(x), nil
		case float64:
			return cty.NumberFloatVal(x), nil
		}
	case *ast.ListType:
		if len(v.List) == 0 {
			return cty.EmptyTupleVal, nil
		}
		vals := make([]cty.Value, len(v.List))
		for i, e := range v.List {
			c, err := ctyOf(e)
			if err != nil {
				return cty.NilVal, err
			}
			vals[i] = c
		}
		return cty.TupleVal(vals), nil
	case *ast.ObjectType:
		vals := map[string]cty.Value{}
		for _, it := range v.List.Items {
			c, err := ctyOf(it.Val)
			if err != nil {
				return cty.NilVal, err
			}
			for i := len(it.Keys) - 1; i > 0; i-- {
				c = cty.ObjectVal(map[string]cty.Value{keyName(it.Keys[i]): c})
			}
			vals[keyName(it.Keys[0])] = c
		}
		if len(vals) == 0 {
			return cty.EmptyObjectVal, nil
		}
		return cty.ObjectVal(vals), nil
	}
	return cty.NilVal, fmt.Errorf("unsupported value at line %d", n.Pos().Line)
}

func keyName(k *ast.ObjectKey) string {
	if s, ok := k.Token.Value().(string); ok {
		return s
	}
	return k.Token.Text
}
