package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	// Link the AWS implementations, so every command that takes a --locks
	// or --store URL accepts dynamodb:// and s3://.
	_ "github.com/strata-iac/strata/runner/lock/dynamodb"
	_ "github.com/strata-iac/strata/runner/store/s3"
)

// dataDirUsage documents --data-dir for every command that keeps local
// state.
const dataDirUsage = "directory for strata's local state (default $XDG_DATA_HOME/strata, else ~/.local/share/strata)"

// dataDir resolves DATA_DIR: the --data-dir value when set, else
// $XDG_DATA_HOME/strata (when absolute, as the XDG spec requires), else
// ~/.local/share/strata. It creates the directory when missing.
func dataDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		if xdg := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
			dir = filepath.Join(xdg, "strata")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", errors.New("no data directory: set --data-dir, XDG_DATA_HOME or HOME")
			}
			dir = filepath.Join(home, ".local", "share", "strata")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	return filepath.Abs(dir)
}

// defaultLocksURL is where locks live when --locks is not given.
func defaultLocksURL(dataDir string) string {
	return "bolt://" + filepath.Join(dataDir, "locks.db")
}
