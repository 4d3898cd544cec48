package tf

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// fakeTerraform writes an executable named name into dir that reports
// version v.
func fakeTerraform(t *testing.T, dir, name, v string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	script := fmt.Sprintf("#!/bin/sh\necho '{\"terraform_version\":\"%s\"}'\n", v)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindBinaryOnPath(t *testing.T) {
	old, newer := t.TempDir(), t.TempDir()
	oldPath := fakeTerraform(t, old, "terraform", "1.11.4")
	newPath := fakeTerraform(t, newer, "terraform", "1.12.1")
	t.Setenv("PATH", old+string(os.PathListSeparator)+newer)
	ctx := context.Background()

	b, err := FindBinary(ctx, BinaryOptions{NoDownload: true, CacheDir: t.TempDir()})
	if err != nil || b.Path != oldPath || b.Version != "1.11.4" || b.Name != "terraform" {
		t.Fatalf("no constraint: %+v, %v; want the first on PATH", b, err)
	}
	cons := []Constraint{
		{Expr: ">= 1.5", Source: "strata.yaml terraform.version"},
		{Expr: ">= 1.12", Source: "live/prod/network/versions.tf:3"},
	}
	b, err = FindBinary(ctx, BinaryOptions{Constraints: cons, NoDownload: true, CacheDir: t.TempDir()})
	if err != nil || b.Path != newPath || b.Version != "1.12.1" {
		t.Fatalf(">= 1.12: %+v, %v; want %s", b, err, newPath)
	}
}

func TestFindBinaryNoneFits(t *testing.T) {
	dir := t.TempDir()
	path := fakeTerraform(t, dir, "terraform", "1.11.4")
	t.Setenv("PATH", dir)
	cons := []Constraint{
		{Expr: ">= 1.5", Source: "strata.yaml terraform.version"},
		{Expr: ">= 1.12", Source: "live/prod/network/versions.tf:3"},
	}
	_, err := FindBinary(context.Background(), BinaryOptions{Constraints: cons, NoDownload: true, CacheDir: t.TempDir()})
	want := fmt.Sprintf(`terraform 1.11.4 at %s does not satisfy ">= 1.12" (required by live/prod/network/versions.tf:3); install a matching version or set terraform.version (downloads are disabled)`, path)
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n %v\nwant\n %s", err, want)
	}

	t.Setenv("PATH", t.TempDir())
	_, err = FindBinary(context.Background(), BinaryOptions{Name: "tofu", Constraints: cons, CacheDir: t.TempDir()})
	if err == nil || err.Error() != "tofu not found on PATH; install it or set terraform.binary; strata downloads terraform releases only" {
		t.Fatalf("tofu: %v", err)
	}

	_, err = FindBinary(context.Background(), BinaryOptions{Constraints: []Constraint{{Expr: "~> banana", Source: "strata.yaml terraform.version"}}})
	if err == nil || !strings.Contains(err.Error(), `invalid version constraint "~> banana" (strata.yaml terraform.version)`) {
		t.Fatalf("bad constraint: %v", err)
	}
}

func TestFindBinaryUsesInstalledRelease(t *testing.T) {
	dir := t.TempDir()
	fakeTerraform(t, dir, "terraform", "1.11.4")
	t.Setenv("PATH", dir)
	cache := t.TempDir()
	fakeTerraform(t, filepath.Join(cache, "1.12.0"), "terraform", "1.12.0")
	want := fakeTerraform(t, filepath.Join(cache, "1.13.2"), "terraform", "1.13.2")
	b, err := FindBinary(context.Background(), BinaryOptions{
		Constraints: []Constraint{{Expr: ">= 1.12", Source: "x"}}, NoDownload: true, CacheDir: cache,
	})
	if err != nil || b.Path != want {
		t.Fatalf("%+v, %v; want the newest installed release %s", b, err, want)
	}
}

// TestFindBinaryDownloadIsBounded points the download at a server that
// never answers: FindBinary gives up after DownloadTimeout and says why.
func TestFindBinaryDownloadIsBounded(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer srv.Close()
	defer close(hang)
	dir := t.TempDir()
	fakeTerraform(t, dir, "terraform", "1.11.4")
	t.Setenv("PATH", dir)
	start := time.Now()
	_, err := FindBinary(context.Background(), BinaryOptions{
		Constraints:     []Constraint{{Expr: ">= 1.12", Source: "live/a/versions.tf:2"}},
		CacheDir:        t.TempDir(),
		ReleasesURL:     srv.URL,
		DownloadTimeout: 300 * time.Millisecond,
	})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("FindBinary took %s with a 300ms download timeout", took)
	}
	if err == nil || !strings.Contains(err.Error(), `does not satisfy ">= 1.12" (required by live/a/versions.tf:2)`) ||
		!strings.Contains(err.Error(), "downloading a matching release failed: no answer within 300ms") {
		t.Fatalf("error: %v", err)
	}
}

// TestFindBinaryDownloadsRelease serves a signed release the way
// releases.hashicorp.com does and checks FindBinary installs it into the
// cache, then finds it there without the network.
func TestFindBinaryDownloadsRelease(t *testing.T) {
	const v = "1.99.0"
	entity, err := openpgp.NewEntity("strata test", "", "test@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	aw, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := entity.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()

	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	f, _ := zw.Create("terraform")
	fmt.Fprintf(f, "#!/bin/sh\necho '{\"terraform_version\":\"%s\"}'\n", v)
	zw.Close()
	zipName := fmt.Sprintf("terraform_%s_%s_%s.zip", v, runtime.GOOS, runtime.GOARCH)
	sum := sha256.Sum256(zipBuf.Bytes())
	sums := hex.EncodeToString(sum[:]) + "  " + zipName + "\n"
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, entity, strings.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	build := map[string]any{
		"name": "terraform", "version": v, "os": runtime.GOOS, "arch": runtime.GOARCH,
		"filename": zipName, "url": "/terraform/" + v + "/" + zipName,
	}
	pv := map[string]any{
		"name": "terraform", "version": v, "builds": []any{build},
		"shasums": "terraform_" + v + "_SHA256SUMS", "shasums_signature": "terraform_" + v + "_SHA256SUMS.sig",
	}
	index, _ := json.Marshal(map[string]any{"name": "terraform", "versions": map[string]any{v: pv}})
	files := map[string]struct {
		typ  string
		body []byte
	}{
		"/terraform/index.json":                                   {"application/json", index},
		"/terraform/" + v + "/terraform_" + v + "_SHA256SUMS":     {"text/plain", []byte(sums)},
		"/terraform/" + v + "/terraform_" + v + "_SHA256SUMS.sig": {"application/octet-stream", sig.Bytes()},
		"/terraform/" + v + "/" + zipName:                         {"application/zip", zipBuf.Bytes()},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.typ)
		w.Write(f.body)
	}))

	dir := t.TempDir()
	fakeTerraform(t, dir, "terraform", "1.11.4")
	t.Setenv("PATH", dir)
	cache := t.TempDir()
	opts := BinaryOptions{
		Constraints: []Constraint{{Expr: ">= 1.12", Source: "x"}},
		CacheDir:    cache,
		ReleasesURL: srv.URL,
		ReleasesKey: pub.String(),
	}
	b, err := FindBinary(context.Background(), opts)
	srv.Close()
	want := filepath.Join(cache, v, "terraform")
	if err != nil || b.Path != want || b.Version != v {
		t.Fatalf("%+v, %v; want %s installed", b, err, want)
	}
	opts.NoDownload = true
	if b, err := FindBinary(context.Background(), opts); err != nil || b.Path != want {
		t.Fatalf("second time: %+v, %v; want the installed %s", b, err, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(cache, ".install-*")); len(leftovers) > 0 {
		t.Errorf("install left %v behind", leftovers)
	}
}

// TestFindBinaryOfflineFailsFast: with the releases host unreachable (a
// refused connection, as on a machine without network), a version
// mismatch fails on the first connection attempt with what to do, instead
// of retrying a download that cannot succeed.
func TestFindBinaryOfflineFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	fakeTerraform(t, dir, "terraform", "1.11.4")
	t.Setenv("PATH", dir)
	_, err = FindBinary(context.Background(), BinaryOptions{
		Constraints: []Constraint{{Expr: ">= 1.12", Source: "live/a/versions.tf:2"}},
		CacheDir:    t.TempDir(),
		ReleasesURL: closed,
	})
	if err == nil || !strings.Contains(err.Error(), `does not satisfy ">= 1.12" (required by live/a/versions.tf:2)`) ||
		!strings.Contains(err.Error(), "cannot reach "+strings.TrimPrefix(closed, "http://")) ||
		!strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "looks offline") {
		t.Fatalf("error: %v", err)
	}
}
