package tf

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
)

// binaryVersion runs `version -json`, whose terraform_version field both
// terraform and tofu print, in strata's environment (no STRATA_* variable,
// no update check) and in sb when set, like any terraform process.
func binaryVersion(ctx context.Context, path string, env []string, sb *Sandbox) (*version.Version, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := command{bin: path, env: env, grace: 5 * time.Second, sandbox: sb}.run(ctx, "version", "-json")
	if err != nil {
		return nil, err
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if out.Code != 0 || json.Unmarshal(out.Stdout, &v) != nil || v.Version == "" {
		return nil, fmt.Errorf("`%s version -json` exited with %d: %s", path, out.Code, strings.TrimSpace(string(out.Stdout)+string(out.Stderr)))
	}
	return version.NewVersion(v.Version)
}
