package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-iac/strata/internal/redact"
	"github.com/strata-iac/strata/planner/tf"
)

const sandboxUsage = "run terraform in a sandbox: required (refuse to run without one), auto (where one can be made) or off"

// Prefixes of the per-operation environment: STRATA_PLAN_ENV_X=v gives
// X=v to the terraform of plans (and drift scans) alone, STRATA_APPLY_ENV_X
// to that of applies.
const (
	planEnvPrefix  = "STRATA_PLAN_ENV_"
	applyEnvPrefix = "STRATA_APPLY_ENV_"
)

// openSandbox makes the sandbox --sandbox asks for. Required: where none
// can be made, the error says how to enable one or turn it off. Auto: warn
// is told why, and terraform runs unsandboxed.
func openSandbox(ctx context.Context, value string, warn func(error)) (*tf.Sandbox, error) {
	mode, err := tf.ParseSandboxMode(value)
	if err != nil {
		return nil, err
	}
	sb, err := tf.NewSandbox(ctx, mode)
	switch {
	case err == nil:
		return sb, nil
	case mode == tf.SandboxAuto:
		warn(err)
		return nil, nil
	default:
		return nil, fmt.Errorf("%w; or pass --sandbox off (STRATA_SANDBOX=off) to run terraform unsandboxed", err)
	}
}

// sandboxFlag is --sandbox's value: the flag, else STRATA_SANDBOX, else
// def.
func sandboxFlag(c *cobra.Command, value, def string) string {
	if c.Flags().Changed("sandbox") {
		return value
	}
	if v, ok := os.LookupEnv(envName("sandbox")); ok {
		return v
	}
	return def
}

// operationEnv reads the per-operation environment of terraform from env.
// A variable strata sets itself is an error naming it.
func operationEnv(env []string) (plan, apply []string, err error) {
	for _, p := range []struct {
		prefix string
		out    *[]string
	}{{planEnvPrefix, &plan}, {applyEnvPrefix, &apply}} {
		*p.out = tf.PrefixedEnv(env, p.prefix)
		for _, kv := range *p.out {
			if name, _, _ := strings.Cut(kv, "="); tf.Owned(name) {
				return nil, nil, fmt.Errorf("%s%s: strata sets %s for terraform itself (or keeps it from terraform); remove it", p.prefix, name, name)
			}
		}
	}
	return plan, apply, nil
}

// secretVar reports whether a variable of strata's environment holds a
// secret: a name that looks secret, the per-operation environment of
// terraform, the notify webhook's URL.
func secretVar(name string) bool {
	return redact.SecretName(name) || strings.HasPrefix(name, planEnvPrefix) || strings.HasPrefix(name, applyEnvPrefix) ||
		name == envName("notify-webhook") || name == envName("ui-session-key")
}

// urlSecrets are the parts of a URL that hold a secret: the whole URL, its
// path and query when long enough to be one (a Slack webhook's secret is
// its path; "/hook" is not a secret) and its password.
func urlSecrets(raw string) []string {
	if raw == "" {
		return nil
	}
	out := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		for _, part := range []string{u.Path, u.RawQuery} {
			if len(part) >= 16 {
				out = append(out, part)
			}
		}
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
	}
	return out
}

// serverSecrets is what the server keeps of its secrets once they left
// its environment: every value to mask, and terraform's per-operation
// environment.
type serverSecrets struct {
	secrets     []string
	plan, apply []string
}

// heldSecrets gathers the secrets the server holds: its own (forge
// token, webhook secret, notify webhook URL), the values of variables of
// its environment whose names look secret, those of terraform's
// per-operation environment and the tokens of the operator's CLI config
// for terraform (checked here, so a broken one stops the server at start).
// Then it takes strata's own secret variables out of Go's environment:
// nothing strata starts inherits them.
func heldSecrets(own ...string) (serverSecrets, error) {
	env := os.Environ()
	var out serverSecrets
	var err error
	if out.plan, out.apply, err = operationEnv(env); err != nil {
		return out, err
	}
	out.secrets = append(append(own, redact.EnvSecrets(env)...), redact.EnvSecrets(out.plan)...)
	out.secrets = append(out.secrets, redact.EnvSecrets(out.apply)...)
	src, err := tf.OperatorCLIConfig(env)
	if err != nil {
		return out, err
	}
	if src != nil {
		tokens, err := tf.CLIConfigSecrets(*src)
		if err != nil {
			return out, err
		}
		out.secrets = append(out.secrets, tokens...)
	}
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "STRATA_") && secretVar(name) {
			os.Unsetenv(name)
		}
	}
	return out, nil
}
