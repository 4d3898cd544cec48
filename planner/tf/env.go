package tf

import (
	"strings"
)

// strippedPrefixes and strippedNames are the variables of strata's own
// environment that never reach a terraform child. STRATA_* holds the
// server's secrets (forge tokens, webhook secrets). The TF_* ones would
// override what strata decides for every run: the CLI config and plugin
// cache, logging (which would pollute the output strata parses), extra
// arguments, the data dir and the workspace. TERRAFORM_CONFIG is the legacy
// name of TF_CLI_CONFIG_FILE.
var (
	strippedPrefixes = []string{"STRATA_", "TF_LOG", "TF_CLI_ARGS"}
	strippedNames    = map[string]bool{
		"TF_CLI_CONFIG_FILE":                             true,
		"TERRAFORM_CONFIG":                               true,
		"TF_PLUGIN_CACHE_DIR":                            true,
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": true,
		"TF_DATA_DIR":                                    true,
		"TF_WORKSPACE":                                   true,
		"TF_REATTACH_PROVIDERS":                          true,
		"TF_IN_AUTOMATION":                               true,
		"TF_INPUT":                                       true,
		"CHECKPOINT_DISABLE":                             true,
	}
)

// Environ returns the environment of a terraform child: parent without
// the stripped variables, plus the settings strata always wants, plus set
// (KEY=VALUE entries, e.g. TF_CLI_CONFIG_FILE and TF_DATA_DIR). Everything
// else, such as AWS_*, TF_VAR_* or TF_TOKEN_*, is passed through.
func Environ(parent []string, set ...string) []string {
	env := make([]string, 0, len(parent)+len(set)+3)
	for _, kv := range parent {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || stripped(k) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
	return append(env, set...)
}

func stripped(key string) bool {
	if strippedNames[key] {
		return true
	}
	for _, p := range strippedPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// Owned reports whether strata sets the variable name itself (or keeps it
// from terraform), so no per-operation environment may set it.
func Owned(name string) bool { return stripped(name) }

// PrefixedEnv returns the variables of env whose names start with prefix,
// with the prefix cut: STRATA_PLAN_ENV_AWS_PROFILE=plan gives
// AWS_PROFILE=plan.
func PrefixedEnv(env []string, prefix string) []string {
	var out []string
	for _, kv := range env {
		if rest, ok := strings.CutPrefix(kv, prefix); ok && !strings.HasPrefix(rest, "=") && strings.Contains(rest, "=") {
			out = append(out, rest)
		}
	}
	return out
}

// Overlay returns base with the variables of overlay set over it: an
// overlay entry replaces base's variable of the same name, and one with an
// empty value removes it. Names strata owns (Owned) are left alone.
func Overlay(base, overlay []string) []string {
	set := map[string]string{}
	var order []string
	for _, kv := range overlay {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || Owned(k) {
			continue
		}
		if _, dup := set[k]; !dup {
			order = append(order, k)
		}
		set[k] = v
	}
	if len(set) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(order))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := set[k]; !over {
			out = append(out, kv)
		}
	}
	for _, k := range order {
		if v := set[k]; v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// credentialFileVars name files that hold or point to credentials the
// cloud SDKs of providers read.
var credentialFileVars = []string{
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE",
	"GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS_FILE", "ARM_CLIENT_CERTIFICATE_PATH", "ARM_OIDC_TOKEN_FILE_PATH",
	"KUBECONFIG", "SSL_CERT_FILE", "SSL_CERT_DIR",
}

// CredentialFiles lists the files terraform's environment env gives
// providers to read: those the variables of credentialFileVars name
// (KUBECONFIG and SSL_CERT_DIR may list several, separated by ':'), and
// the AWS SDK's shared files in $HOME/.aws when their variables are unset.
// They are the cloud credentials given to terraform, so the sandbox shows
// them, read-only.
func CredentialFiles(env []string) []string {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vals[k] = v
		}
	}
	var out []string
	for _, name := range credentialFileVars {
		for _, p := range strings.Split(vals[name], ":") {
			if strings.HasPrefix(p, "/") {
				out = append(out, p)
			}
		}
	}
	if home := vals["HOME"]; strings.HasPrefix(home, "/") {
		if vals["AWS_SHARED_CREDENTIALS_FILE"] == "" {
			out = append(out, home+"/.aws/credentials")
		}
		if vals["AWS_CONFIG_FILE"] == "" {
			out = append(out, home+"/.aws/config")
		}
	}
	return out
}
