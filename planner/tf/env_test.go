package tf

import (
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
