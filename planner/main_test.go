package planner

import (
	"os"
	"testing"

	"github.com/strata-iac/strata/internal/motoserver"
)

// TestMain isolates the package's tests from real AWS: the S3 backend
// tests run against moto.
func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
