package tf

import (
	"strings"
	"testing"

	"github.com/strata-iac/strata/stacks"
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

// TestStrataYAMLCannotSetWhatStrataOwns: every variable Environ keeps from
// terraform is one strata.yaml's env may not set (stacks.EnvOwned), so the
// two lists cannot drift apart, and what strata passes through stays
// settable.
func TestStrataYAMLCannotSetWhatStrataOwns(t *testing.T) {
	var names []string
	for n := range strippedNames {
		names = append(names, n)
	}
	for _, p := range strippedPrefixes {
		names = append(names, p+"_X")
	}
	for _, n := range names {
		if !stacks.EnvOwned(n) {
			t.Errorf("%s never reaches terraform from strata's environment, but strata.yaml's env may set it", n)
		}
	}
	for _, n := range []string{"TF_VAR_region", "AWS_PROFILE", "TF_TOKEN_app_terraform_io", "HTTPS_PROXY"} {
		if stacks.EnvOwned(n) {
			t.Errorf("strata.yaml's env may not set %s, which strata passes through", n)
		}
	}
	for _, n := range []string{"STRATA_X", "TF_LOG", "TF_CLI_ARGS_plan", "TF_DATA_DIR", "TF_WORKSPACE", "TF_INPUT"} {
		if !stripped(n) || !stacks.EnvOwned(n) {
			t.Errorf("%s: stripped %v, owned %v; want both", n, stripped(n), stacks.EnvOwned(n))
		}
	}
}
