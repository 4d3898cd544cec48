package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envName is the environment variable that sets a flag: STRATA_ and the
// flag's name in upper case with dashes as underscores.
func envName(flag string) string {
	return "STRATA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv sets every flag of c that was not given on the command line from
// its STRATA_* variable, when that is set. Flags win over the environment.
func bindEnv(c *cobra.Command) error {
	var err error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if serr := c.Flags().Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, serr)
		}
	})
	return err
}

// secret reads a secret from the environment variable env or, when that is
// unset, from file (the value of a --*-file flag). Secrets are never flags,
// so they don't show in ps. Surrounding whitespace is trimmed.
func secret(env, file string) (string, error) {
	if v, ok := os.LookupEnv(env); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), nil
	}
	if file == "" {
		return "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("secret file %s is empty", file)
	}
	return v, nil
}
