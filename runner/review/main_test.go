package review

import (
	"os"
	"testing"

	"github.com/strata-iac/strata/internal/motoserver"
)

// TestMain runs the tests under motoserver.Main: the state's conditional
// writes are also tested on S3 (moto).
func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
