package tf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteCLIConfigAlwaysInstallsExplicitly(t *testing.T) {
	dir := t.TempDir()
	cfg, err := WriteCLIConfig(dir, `/cache/plugins "quoted"`)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`plugin_cache_dir   = "/cache/plugins \"quoted\""`, "disable_checkpoint = true", "provider_installation {\n  direct {\n  }\n}"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("CLI config lacks %q:\n%s", want, data)
		}
	}
	if fi, err := os.Stat(cfg.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CLI config mode %v (%v), want 0600: it may hold tokens", fi.Mode().Perm(), err)
	}
	again, err := WriteCLIConfig(dir, `/cache/plugins "quoted"`)
	if err != nil || again.Path != cfg.Path {
		t.Errorf("same content: path %q, %v; want %q", again.Path, err, cfg.Path)
	}
	other, err := WriteCLIConfig(dir, "/elsewhere")
	if err != nil || other.Path == cfg.Path {
		t.Errorf("other content: path %q, %v; want a path of its own", other.Path, err)
	}
}

// TestWriteCLIConfigMergesTheOperators reads an operator's configuration
// with every setting strata merges, in HCL and in JSON.
func TestWriteCLIConfigMergesTheOperators(t *testing.T) {
	const operator = `
plugin_cache_dir = "/home/op/.terraform.d/plugin-cache"
credentials "app.terraform.io" {
  token = "op-tfc-token-0123456789"
}
credentials_helper "vault" {
  args = ["--path", "secret/tf"]
}
host "registry.acme.example" {
  services = { "providers.v1" = "https://registry.acme.example/v1/providers/" }
}
provider_installation {
  filesystem_mirror {
    path    = "/srv/terraform/providers"
    include = ["acme.example/*/*"]
  }
  network_mirror {
    url     = "https://mirror.acme.example/providers/"
    exclude = ["acme.example/*/*"]
  }
}
`
	dir := t.TempDir()
	cfg, err := WriteCLIConfig(dir, "/cache/plugins", CLIConfigSource{Name: "/etc/terraformrc", Content: []byte(operator)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cfg.Path)
	got := string(data)
	for _, want := range []string{
		`plugin_cache_dir   = "/cache/plugins"`,
		`credentials "app.terraform.io" {`, `token = "op-tfc-token-0123456789"`,
		`credentials_helper "vault" {`, `args = ["--path", "secret/tf"]`,
		`host "registry.acme.example" {`, `"providers.v1" = "https://registry.acme.example/v1/providers/"`,
		"filesystem_mirror {\n    path    = \"/srv/terraform/providers\"\n    include = [\"acme.example/*/*\"]\n  }\n  network_mirror {\n    url     = \"https://mirror.acme.example/providers/\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged CLI config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "direct") || strings.Contains(got, "/home/op") {
		t.Errorf("merged CLI config adds direct or keeps the operator's plugin cache:\n%s", got)
	}
	if !reflect.DeepEqual(cfg.MirrorDirs, []string{"/srv/terraform/providers"}) || !reflect.DeepEqual(cfg.Secrets, []string{"op-tfc-token-0123456789"}) {
		t.Errorf("mirror dirs %q, secrets %q", cfg.MirrorDirs, cfg.Secrets)
	}

	cfg, err = WriteCLIConfig(dir, "/cache/plugins", CLIConfigSource{Name: "/etc/one-line", Content: []byte(`provider_installation { direct {} }`)})
	if err != nil {
		t.Fatalf("terraform's one-line provider_installation block: %v", err)
	}

	const asJSON = `{"provider_installation": [{"network_mirror": [{"url": "https://json.example/"}]}],
		"credentials": {"json.example": {"token": "json-token-abcdefgh"}}}`
	cfg, err = WriteCLIConfig(dir, "/cache/plugins", CLIConfigSource{Name: "/etc/op.tfrc.json", Content: []byte(asJSON)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(cfg.Path)
	if !strings.Contains(string(data), `url = "https://json.example/"`) || !strings.Contains(string(data), `credentials "json.example"`) {
		t.Errorf("JSON CLI config not merged:\n%s", data)
	}
}

func TestWriteCLIConfigErrorsNameTheFile(t *testing.T) {
	cases := []struct {
		name    string
		sources []CLIConfigSource
		want    string
	}{
		{"syntax", []CLIConfigSource{{Name: "/etc/rc", Content: []byte("provider_installation {\n  direct {\n")}}, "/etc/rc:"},
		{"unknown", []CLIConfigSource{{Name: "/etc/rc", Content: []byte("\nbogus = 1\n")}}, `/etc/rc:2: unknown setting "bogus"`},
		{"dev overrides", []CLIConfigSource{{Name: "/etc/rc", Content: []byte("provider_installation {\n  dev_overrides { \"hashicorp/null\" = \"/p\" }\n}")}}, "/etc/rc:2: dev_overrides is for developing providers"},
		{"relative mirror", []CLIConfigSource{{Name: "/etc/rc", Content: []byte(`provider_installation { filesystem_mirror { path = "mirror" } }`)}}, `filesystem_mirror path "mirror" must be absolute`},
		{"twice", []CLIConfigSource{
			{Name: "/etc/a", Content: []byte(`provider_installation { direct {} }`)},
			{Name: "/etc/b", Content: []byte(`provider_installation { direct {} }`)},
		}, "provider_installation is set both in /etc/a and in /etc/b"},
	}
	for _, c := range cases {
		_, err := WriteCLIConfig(t.TempDir(), "/cache", c.sources...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestOperatorCLIConfigIsWhatTerraformWouldRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rc")
	os.WriteFile(file, []byte(`credentials "x" { token = "t" }`), 0o600)
	os.WriteFile(filepath.Join(dir, ".terraformrc"), []byte("home"), 0o600)
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"TF_CLI_CONFIG_FILE=" + file, "HOME=" + dir}, file},
		{[]string{"TERRAFORM_CONFIG=" + file}, file},
		{[]string{"HOME=" + dir}, filepath.Join(dir, ".terraformrc")},
		{[]string{"TF_CLI_CONFIG_FILE=" + filepath.Join(dir, "missing"), "HOME=" + dir}, ""},
		{nil, ""},
	} {
		src, err := OperatorCLIConfig(c.env)
		got := ""
		if src != nil {
			got = src.Name
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.env, got, err, c.want)
		}
	}
}
