package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func stackFilesOf(t *testing.T, files map[string]string) (stackFiles, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	sf, err := readStackFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sf, dir
}

func TestBackendDetection(t *testing.T) {
	for name, tc := range map[string]struct {
		files    map[string]string
		typ      string
		attrs    string
		position string
	}{
		"none": {files: map[string]string{"main.tf": `resource "terraform_data" "x" {}`}},
		"s3 native": {
			files: map[string]string{"main.tf": "resource \"terraform_data\" \"x\" {}\n", "backend.tf": "terraform {\n  backend \"s3\" {\n    key = \"legacy/net.tfstate\"\n  }\n}\n"},
			typ:   "s3", attrs: "key", position: "backend.tf:2",
		},
		"s3 json": {
			files: map[string]string{"main.tf.json": `{"terraform": {"backend": {"s3": {"bucket": "b", "region": "eu-west-1"}}}}`},
			typ:   "s3", attrs: "bucket,region", position: "main.tf.json:1",
		},
		"cloud": {
			files: map[string]string{"main.tf": "terraform {\n  cloud {\n    organization = \"acme\"\n  }\n}\n"},
			typ:   "cloud", attrs: "organization", position: "main.tf:2",
		},
		"override file": {
			files: map[string]string{"main.tf": "", "backend_override.tf": "terraform {\n  backend \"gcs\" {}\n}\n"},
			typ:   "gcs", position: "backend_override.tf:2",
		},
		"strata's own file is not the stack's": {
			files: map[string]string{"main.tf": "", backendFileName: backendFileHeader + "terraform {\n  backend \"local\" {}\n}\n"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			sf, _ := stackFilesOf(t, tc.files)
			b := sf.backend()
			if tc.typ == "" {
				if b != nil {
					t.Fatalf("found %+v, want none", b)
				}
				return
			}
			if b == nil {
				t.Fatal("no backend found")
			}
			var attrs []string
			for a := range b.Attrs {
				attrs = append(attrs, a)
			}
			if b.Type != tc.typ || b.Pos != tc.position || joinSorted(attrs) != tc.attrs {
				t.Errorf("got %s at %s setting %v; want %s at %s setting %s", b.Type, b.Pos, attrs, tc.typ, tc.position, tc.attrs)
			}
		})
	}
}

func TestSetupBackendLocalWhenNone(t *testing.T) {
	sf, _ := stackFilesOf(t, map[string]string{"main.tf": `resource "terraform_data" "x" {}`})
	state := filepath.Join(t.TempDir(), `state "quoted"`)
	setup, err := setupBackend(sf, nil, "live/a", "", state)
	if err != nil {
		t.Fatal(err)
	}
	if setup.config != nil {
		t.Errorf("unexpected -backend-config: %s", setup.config)
	}
	if !strings.HasPrefix(string(setup.file), backendFileHeader) {
		t.Errorf("backend file lacks strata's header:\n%s", setup.file)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"x.tf": string(setup.file)})
	generated, err := readStackFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := generated.backend()
	if b == nil || b.Type != "local" || b.LocalPath != filepath.Join(state, "terraform.tfstate") || !b.Attrs["workspace_dir"] {
		t.Errorf("generated backend %+v from:\n%s", b, setup.file)
	}
	if _, err := setupBackend(sf, nil, "live/a", "", ""); err == nil || !strings.Contains(err.Error(), "live/a has no backend block and no state directory") {
		t.Errorf("without a state dir: %v", err)
	}
}

func TestSetupBackendS3(t *testing.T) {
	s3 := &Backend{S3: map[string]any{
		"bucket":                      "acme-tfstate",
		"region":                      "eu-west-1",
		"dynamodb_table":              "acme-tflocks",
		"use_lockfile":                true,
		"use_path_style":              true,
		"skip_credentials_validation": true,
		"max_retries":                 5,
		"endpoints":                   map[string]any{"s3": "http://127.0.0.1:5000", "dynamodb": "http://127.0.0.1:5000"},
		"allowed_account_ids":         []any{"123456789012"},
		"key":                         "{{ .Dir }}/{{ .Workspace }}/terraform.tfstate",
	}}

	sf, _ := stackFilesOf(t, map[string]string{"main.tf": `resource "terraform_data" "x" {}`})
	setup, err := setupBackend(sf, s3, "live/prod/network", "", "/unused")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(setup.file), `backend "s3" {`) {
		t.Errorf("backend file:\n%s", setup.file)
	}
	got := attrValues(t, setup.config)
	want := map[string]string{
		"bucket":                      `"acme-tfstate"`,
		"region":                      `"eu-west-1"`,
		"dynamodb_table":              `"acme-tflocks"`,
		"use_lockfile":                "true",
		"use_path_style":              "true",
		"skip_credentials_validation": "true",
		"max_retries":                 "5",
		"endpoints":                   `{"dynamodb":"http://127.0.0.1:5000","s3":"http://127.0.0.1:5000"}`,
		"allowed_account_ids":         `["123456789012"]`,
		"key":                         `"live/prod/network/default/terraform.tfstate"`,
	}
	if len(got) != len(want) {
		t.Errorf("-backend-config has %d arguments, want %d:\n%s", len(got), len(want), setup.config)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("-backend-config %s = %s, want %s", k, got[k], v)
		}
	}

	// A stack's own s3 block keeps what it sets: here its key.
	sf, _ = stackFilesOf(t, map[string]string{"main.tf": "terraform {\n  backend \"s3\" {\n    key = \"legacy/net.tfstate\"\n  }\n}\n"})
	setup, err = setupBackend(sf, s3, "live/prod/network", "staging", "")
	if err != nil {
		t.Fatal(err)
	}
	got = attrValues(t, setup.config)
	if _, hasKey := got["key"]; setup.file != nil || hasKey || got["bucket"] != `"acme-tfstate"` {
		t.Errorf("existing s3 block: file %q, config:\n%s", setup.file, setup.config)
	}

	// Another backend is the stack's business.
	sf, _ = stackFilesOf(t, map[string]string{"main.tf": "terraform {\n  backend \"gcs\" {}\n}\n"})
	if setup, err := setupBackend(sf, s3, "live/x", "", "/state"); err != nil || setup.file != nil || setup.config != nil {
		t.Errorf("gcs: %+v, %v; want nothing", setup, err)
	}

	bad := &Backend{S3: map[string]any{"key": "{{ .Nope }}"}}
	sf, _ = stackFilesOf(t, map[string]string{"main.tf": ""})
	if _, err := setupBackend(sf, bad, "live/x", "", ""); err == nil || !strings.Contains(err.Error(), "backend.s3.key") {
		t.Errorf("bad key template: %v", err)
	}
}

func TestSetupBackendExplicitLocal(t *testing.T) {
	sf, _ := stackFilesOf(t, map[string]string{"main.tf": "terraform {\n  backend \"local\" {}\n}\n"})
	setup, err := setupBackend(sf, nil, "live/a", "", "/data/state/repo/live/a")
	if err != nil {
		t.Fatal(err)
	}
	got := attrValues(t, setup.config)
	if setup.file != nil || got["path"] != `"/data/state/repo/live/a/terraform.tfstate"` || got["workspace_dir"] != `"/data/state/repo/live/a/terraform.tfstate.d"` {
		t.Errorf("local without path: file %q, config %v", setup.file, got)
	}

	sf, _ = stackFilesOf(t, map[string]string{"main.tf": "terraform {\n  backend \"local\" {\n    path = \"prod.tfstate\"\n  }\n}\n"})
	_, err = setupBackend(sf, nil, "live/a", "", "/data/state")
	if err == nil || !strings.Contains(err.Error(), `live/a: backend "local" at main.tf:2 writes state to the relative path "prod.tfstate"`) {
		t.Errorf("relative local path: %v", err)
	}
}

func TestSyncBackendFile(t *testing.T) {
	dir := t.TempDir()
	if err := syncBackendFile(dir, []byte(backendFileHeader+"x")); err != nil {
		t.Fatal(err)
	}
	if err := syncBackendFile(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, backendFileName)); !os.IsNotExist(err) {
		t.Errorf("stale generated file not removed: %v", err)
	}
	writeFiles(t, dir, map[string]string{backendFileName: "# mine\n"})
	if err := syncBackendFile(dir, []byte(backendFileHeader)); err == nil || !strings.Contains(err.Error(), "was not written by strata") {
		t.Errorf("user's file: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, backendFileName)); string(data) != "# mine\n" {
		t.Errorf("user's file overwritten: %q", data)
	}
}

func TestInstallsProviders(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  bool
	}{
		"built-in only": {map[string]string{"s/main.tf": `resource "terraform_data" "x" {}
data "terraform_remote_state" "y" {
  backend = "local"
}`}, false},
		"aws resource":     {map[string]string{"s/main.tf": `resource "aws_s3_bucket" "x" {}`}, true},
		"required":         {map[string]string{"s/main.tf": `terraform { required_providers { null = { source = "hashicorp/null" } } }`}, true},
		"provider block":   {map[string]string{"s/main.tf": `provider "google" {}`}, true},
		"remote module":    {map[string]string{"s/main.tf": `module "m" { source = "terraform-aws-modules/vpc/aws" }`}, true},
		"broken":           {map[string]string{"s/main.tf": `resource "terraform_data" "x" {`}, true},
		"local module aws": {map[string]string{"s/main.tf": `module "m" { source = "../m" }`, "m/main.tf": `resource "aws_vpc" "v" {}`}, true},
		"local module built-in": {map[string]string{"s/main.tf": `module "m" { source = "../m" }`, "m/main.tf": `resource "terraform_data" "v" {}
module "again" { source = "../m" }`}, false},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			if got := installsProviders(filepath.Join(root, "s")); got != tc.want {
				t.Errorf("installsProviders = %v, want %v", got, tc.want)
			}
		})
	}
}

// attrValues parses a -backend-config file into its arguments' values,
// rendered as JSON.
func attrValues(t *testing.T, src []byte) map[string]string {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "config.tfbackend")
	if diags.HasErrors() {
		t.Fatalf("%s:\n%s", diags, src)
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out := map[string]string{}
	for name, a := range attrs {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		js, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(js)
	}
	return out
}

func joinSorted(s []string) string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return strings.Join(s, ",")
}
