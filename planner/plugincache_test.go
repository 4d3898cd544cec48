package planner

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-iac/strata/planner/tf"
)

// providerMirror builds a filesystem mirror holding a fake provider
// example.com/strata/fake 1.0.0 (a large file, so that a racy cache write
// would show) and returns the CLI config that installs from it.
func providerMirror(t *testing.T) (cliConfig string, binary []byte) {
	t.Helper()
	mirror := t.TempDir()
	dir := filepath.Join(mirror, "example.com", "strata", "fake")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	binary = append([]byte("#!/bin/sh\nexit 1\n"), make([]byte, 16<<20)...)
	if _, err := io.ReadFull(rand.Reader, binary[17:]); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "terraform-provider-fake_v1.0.0", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(binary)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "terraform-provider-fake_1.0.0_"+platform()+".zip"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["example.com/*/*"]
  }
  direct {
    exclude = ["example.com/*/*"]
  }
}`, mirror), binary
}

const fakeProviderStack = `terraform {
  required_providers {
    fake = { source = "example.com/strata/fake", version = "1.0.0" }
  }
}
`

// TestParallelInitsShareThePluginCache runs many inits at once that all
// install the same provider through the shared plugin cache.
func TestParallelInitsShareThePluginCache(t *testing.T) {
	cli, binary := providerMirror(t)
	cache := t.TempDir()
	r := newTestRunner(t, Options{CLIConfig: cli, CacheDir: cache})
	const n = 10
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("live/s%d/main.tf", i)] = fakeProviderStack
	}
	root := export(t, files)
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.do(context.Background(), Job{Dir: fmt.Sprintf("live/s%d", i), Root: root, StateDir: t.TempDir()}, "init",
				func(ctx context.Context, rn *run) {
					if !rn.prepare() {
						return
					}
					if !rn.installs {
						t.Errorf("%s installs a provider but would not take the plugin cache lock", rn.job.Dir)
					}
					if rn.init(ctx, tf.InitOptions{}) {
						rn.res.Status = StatusNoChanges
					}
				})
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res.Status != StatusNoChanges {
			t.Errorf("%s: init failed: %s\n%s", res.Dir, res.Error, res.Log)
		}
	}
	cached, err := os.ReadFile(filepath.Join(cache, "plugins", "example.com", "strata", "fake", "1.0.0", platform(), "terraform-provider-fake_v1.0.0"))
	if err != nil || sha256.Sum256(cached) != sha256.Sum256(binary) {
		t.Errorf("plugin cache does not hold the provider intact: %v", err)
	}
}

// TestBuiltinOnlyStacksSkipThePluginCacheLock holds the plugin cache lock:
// a stack with only built-in resources still plans, one that installs a
// provider waits for the lock.
func TestBuiltinOnlyStacksSkipThePluginCacheLock(t *testing.T) {
	cli, _ := providerMirror(t)
	cache := t.TempDir()
	// The built-in stack has all the time it needs; the other waits for
	// the lock only until a short timeout.
	r := newTestRunner(t, Options{CLIConfig: cli, CacheDir: cache})
	waiting := newTestRunner(t, Options{CLIConfig: cli, CacheDir: cache, StackTimeout: 2 * time.Second})
	unlock, err := tf.PluginCache{Dir: filepath.Join(cache, "plugins")}.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	root := export(t, map[string]string{
		"live/builtin/main.tf": `resource "terraform_data" "x" {}`,
		"live/fake/main.tf":    fakeProviderStack,
	})
	res := r.Plan(context.Background(), Job{Dir: "live/builtin", Root: root, StateDir: t.TempDir()})
	if res.Status != StatusChanges {
		t.Errorf("built-in stack: %s %s", res.Status, res.Error)
	}
	res = waiting.Plan(context.Background(), Job{Dir: "live/fake", Root: root, StateDir: t.TempDir()})
	if res.Status != StatusError || !strings.HasPrefix(res.Error, "init: timed out after 2s") || res.Log != "" {
		t.Errorf("provider stack: %s %q, log %q; want it waiting for the lock until its timeout", res.Status, res.Error, res.Log)
	}
}
