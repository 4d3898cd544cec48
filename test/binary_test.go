package test

import (
	"os"
	"strings"
)

// testBinary is the binary the end-to-end tests have strata run:
// terraform, or the one STRATA_TEST_BINARY names (tofu, for the OpenTofu
// pass of .ci/run).
func testBinary() string {
	if b := os.Getenv("STRATA_TEST_BINARY"); b != "" {
		return b
	}
	return "terraform"
}

// withTestBinary returns a strata.yaml that picks testBinary: the one
// given, with terraform.binary set.
func withTestBinary(yaml string) string {
	if testBinary() == "terraform" {
		return yaml
	}
	if i := strings.Index(yaml, "\nterraform:\n"); i >= 0 {
		at := i + len("\nterraform:\n")
		return yaml[:at] + "  binary: " + testBinary() + "\n" + yaml[at:]
	}
	return "terraform:\n  binary: " + testBinary() + "\n" + yaml
}
