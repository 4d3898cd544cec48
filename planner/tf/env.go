package tf

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/strata-iac/strata/internal/atomicfile"
	"github.com/zclconf/go-cty/cty"
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

// WriteCLIConfig writes strata's CLI configuration into dir and returns its
// path. The file name carries a hash of the content, so concurrent strata
// processes with different settings never overwrite each other's file, and
// the write goes through a rename so no terraform ever reads half a file.
func WriteCLIConfig(dir, pluginCacheDir, extra string) (string, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.SetAttributeValue("plugin_cache_dir", cty.StringVal(pluginCacheDir))
	body.SetAttributeValue("disable_checkpoint", cty.True)
	content := "# Written by strata: the CLI configuration of every terraform it runs.\n" +
		string(f.Bytes())
	if extra != "" {
		content += "\n" + strings.TrimSpace(extra) + "\n"
	}
	sum := sha256.Sum256([]byte(content))
	path := filepath.Join(dir, "terraformrc-"+hex.EncodeToString(sum[:6]))
	if existing, err := os.ReadFile(path); err == nil && string(existing) == content {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("terraform CLI config: %w", err)
	}
	if err := atomicfile.Write(path, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("terraform CLI config: %w", err)
	}
	return path, nil
}
