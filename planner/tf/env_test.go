package tf

import (
	"os"
	"strings"
	"testing"
)

func TestEnvironStripsStrataAndTerraformOverrides(t *testing.T) {
	parent := []string{
		"PATH=/usr/bin",
		"HOME=/home/ci",
		"STRATA_GITLAB_TOKEN=secret",
		"STRATA_GITHUB_WEBHOOK_SECRET=hook",
		"TF_CLI_CONFIG_FILE=/root/.terraformrc",
		"TERRAFORM_CONFIG=/root/.terraformrc",
		"TF_LOG=TRACE",
		"TF_LOG_PATH=/tmp/tf.log",
		"TF_PLUGIN_CACHE_DIR=/root/.terraform.d/plugin-cache",
		"TF_CLI_ARGS_plan=-refresh=false",
		"TF_WORKSPACE=prod",
		"TF_DATA_DIR=/tmp/shared",
		"TF_INPUT=1",
		"TF_VAR_region=eu-west-1",
		"TF_TOKEN_app_terraform_io=tok",
		"AWS_PROFILE=ci",
	}
	env := Environ(parent, "TF_CLI_CONFIG_FILE=/cache/terraformrc")
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	for _, k := range []string{"STRATA_GITLAB_TOKEN", "STRATA_GITHUB_WEBHOOK_SECRET", "TERRAFORM_CONFIG", "TF_LOG", "TF_LOG_PATH",
		"TF_PLUGIN_CACHE_DIR", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "TF_DATA_DIR"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s=%s reaches terraform", k, v)
		}
	}
	want := map[string]string{
		"PATH": "/usr/bin", "HOME": "/home/ci", "TF_VAR_region": "eu-west-1", "TF_TOKEN_app_terraform_io": "tok",
		"AWS_PROFILE": "ci", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
		"TF_CLI_CONFIG_FILE": "/cache/terraformrc",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestWriteCLIConfig(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteCLIConfig(dir, `/cache/plugins "quoted"`, `provider_installation { direct {} }`)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`plugin_cache_dir   = "/cache/plugins \"quoted\""`, "disable_checkpoint = true", "provider_installation { direct {} }"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("CLI config lacks %q:\n%s", want, data)
		}
	}
	again, err := WriteCLIConfig(dir, `/cache/plugins "quoted"`, `provider_installation { direct {} }`)
	if err != nil || again != path {
		t.Errorf("same content: path %q, %v; want %q", again, err, path)
	}
	other, err := WriteCLIConfig(dir, "/elsewhere", "")
	if err != nil || other == path {
		t.Errorf("other content: path %q, %v; want a path of its own", other, err)
	}
}
