package tf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/fs"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"

	"github.com/strata-iac/strata/internal/fault"
)

// Binary is the terraform (or tofu) executable strata runs.
type Binary struct {
	// Name is "terraform" or "tofu".
	Name string
	// Path is absolute.
	Path    string
	Version string
}

// version parses b.Version; nil when it does not parse.
func (b *Binary) version() *version.Version {
	v, err := version.NewVersion(b.Version)
	if err != nil {
		return nil
	}
	return v
}

// AtLeast reports whether b is terraform v or newer. OpenTofu forked from
// terraform 1.6 and has every feature strata gates on, so it always is.
func (b *Binary) AtLeast(v string) bool {
	if b.Name == "tofu" {
		return true
	}
	have := b.version()
	return have != nil && have.GreaterThanOrEqual(version.Must(version.NewVersion(v)))
}

// Constraint is a version constraint on the binary and where it comes from.
type Constraint struct {
	// Expr is the constraint, e.g. ">= 1.5, < 2.0".
	Expr string
	// Source names its origin for error messages: "strata.yaml
	// terraform.version", "live/prod/network/versions.tf:3".
	Source string
}

// BinaryOptions says which binary FindBinary looks for.
type BinaryOptions struct {
	// Name is "terraform" (the default) or "tofu", looked up on PATH, or an
	// absolute path, used as it is.
	Name string
	// Constraints must all hold (strata.yaml terraform.version and each
	// stack's required_version, see StackConstraints).
	Constraints []Constraint
	// CacheDir holds the releases strata installed, one directory per
	// version; default $XDG_CACHE_HOME/strata/terraform.
	CacheDir string
	// NoDownload forbids installing a release when no binary fits.
	NoDownload bool
	// DownloadTimeout bounds the whole download; default 2 minutes.
	DownloadTimeout time.Duration
	// ReleasesURL is a mirror of releases.hashicorp.com (same layout);
	// ReleasesKey the armored PGP public key its SHA256SUMS are signed
	// with. Empty: HashiCorp's site and key.
	ReleasesURL string
	ReleasesKey string
	// Environ is the environment the binary's version is read in, filtered
	// as for any terraform child; nil means os.Environ().
	Environ []string
	// Sandbox, when set, is where the versions are read, as every
	// terraform process runs.
	Sandbox *Sandbox
}

// DefaultCacheDir is strata's cache: $XDG_CACHE_HOME/strata, or
// ~/.cache/strata.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory: %w", err)
	}
	return filepath.Join(dir, "strata"), nil
}

// FindBinary finds the binary to run: the first one on PATH that satisfies
// every constraint, else one strata installed earlier, else (terraform
// only, unless NoDownload) the newest matching release, installed with
// hc-install into CacheDir. When none fits the error names the binary found,
// its version and the constraint it breaks.
//
// Errors are permanent (package fault) when only a change of the
// constraints or of the machine can help, and transient when a download
// failed.
func FindBinary(ctx context.Context, opts BinaryOptions) (*Binary, error) {
	name, exact := opts.Name, ""
	switch {
	case name == "":
		name = "terraform"
	case filepath.IsAbs(name):
		exact, name = name, filepath.Base(name)
	case name != "terraform" && name != "tofu":
		return nil, fault.Permanent(fmt.Errorf("terraform.binary %q: want terraform, tofu or an absolute path", name))
	}
	cons, all, err := parseConstraints(opts.Constraints)
	if err != nil {
		return nil, fault.Permanent(err)
	}
	env := Environ(environ(opts.Environ))
	prod := product.Product{
		Name:       name,
		BinaryName: func() string { return name },
		GetVersion: func(ctx context.Context, path string) (*version.Version, error) {
			return binaryVersion(ctx, path, env, opts.Sandbox)
		},
	}
	if exact != "" {
		return checkExact(ctx, prod, exact, cons)
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		root, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cacheDir = filepath.Join(root, "terraform")
	}
	installed := installedDirs(cacheDir, name)
	var path string
	if len(all) == 0 {
		path, err = (&fs.AnyVersion{Product: &prod, ExtraPaths: installed}).Find(ctx)
	} else {
		path, err = (&fs.Version{Product: prod, Constraints: all, ExtraPaths: installed}).Find(ctx)
	}
	if err == nil {
		return newBinary(ctx, prod, path)
	}
	why := mismatch(ctx, prod, cons)
	switch {
	case name != "terraform":
		return nil, fault.Permanent(fmt.Errorf("%s; strata downloads terraform releases only", why))
	case opts.NoDownload:
		return nil, fault.Permanent(fmt.Errorf("%s (downloads are disabled)", why))
	}
	b, err := install(ctx, opts, cacheDir, all, env)
	if err != nil {
		return nil, fault.Transient(fmt.Errorf("%s; downloading a matching release failed: %w", why, err))
	}
	return b, nil
}

// constraint is a parsed Constraint.
type constraint struct {
	Constraint
	parsed version.Constraints
}

func parseConstraints(in []Constraint) ([]constraint, version.Constraints, error) {
	var out []constraint
	var all version.Constraints
	for _, c := range in {
		p, err := version.NewConstraint(c.Expr)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid version constraint %q (%s): %w", c.Expr, c.Source, err)
		}
		out = append(out, constraint{c, p})
		all = append(all, p...)
	}
	return out, all, nil
}

// firstBroken returns the first constraint v breaks.
func firstBroken(v *version.Version, cons []constraint) (constraint, bool) {
	for _, c := range cons {
		if v == nil || !c.parsed.Check(v) {
			return c, true
		}
	}
	return constraint{}, false
}

func checkExact(ctx context.Context, prod product.Product, path string, cons []constraint) (*Binary, error) {
	b, err := newBinary(ctx, prod, path)
	if err != nil {
		return nil, err
	}
	if c, broken := firstBroken(b.version(), cons); broken {
		return nil, fmt.Errorf("%s %s at %s does not satisfy %q (required by %s)", b.Name, b.Version, path, c.Expr, c.Source)
	}
	return b, nil
}

// mismatch explains why no binary on PATH fits.
func mismatch(ctx context.Context, prod product.Product, cons []constraint) string {
	path, err := (&fs.AnyVersion{Product: &prod}).Find(ctx)
	if err != nil {
		return fmt.Sprintf("%s not found on PATH; install it or set terraform.binary", prod.Name)
	}
	v, err := prod.GetVersion(ctx, path)
	if err != nil {
		return fmt.Sprintf("%s at %s: cannot read its version: %v", prod.Name, path, err)
	}
	c, broken := firstBroken(v, cons)
	if !broken {
		return fmt.Sprintf("%s %s at %s does not satisfy the constraints", prod.Name, v, path)
	}
	return fmt.Sprintf("%s %s at %s does not satisfy %q (required by %s); install a matching version or set terraform.version", prod.Name, v, path, c.Expr, c.Source)
}

func newBinary(ctx context.Context, prod product.Product, path string) (*Binary, error) {
	v, err := prod.GetVersion(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: cannot read its version: %w", prod.Name, path, err)
	}
	return &Binary{Name: prod.Name, Path: path, Version: v.String()}, nil
}

// installedDirs lists the version directories under cacheDir that hold an
// executable name, newest first.
func installedDirs(cacheDir, name string) []string {
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return nil
	}
	type dirVersion struct {
		dir string
		v   *version.Version
	}
	var found []dirVersion
	for _, e := range entries {
		v, err := version.NewVersion(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		dir := filepath.Join(cacheDir, e.Name())
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&0o111 != 0 {
			found = append(found, dirVersion{dir, v})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].v.GreaterThan(found[j].v) })
	dirs := make([]string, len(found))
	for i, f := range found {
		dirs[i] = f.dir
	}
	return dirs
}

// install downloads the newest terraform release matching all into
// cacheDir/<version>/, bounded by the download timeout.
func install(ctx context.Context, opts BinaryOptions, cacheDir string, all version.Constraints, env []string) (*Binary, error) {
	timeout := opts.DownloadTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	if err := probeReleases(ctx, opts.ReleasesURL); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".install-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	lv := &releases.LatestVersion{
		Product:          product.Terraform,
		Constraints:      all,
		InstallDir:       tmp,
		Timeout:          timeout,
		ApiBaseURL:       opts.ReleasesURL,
		ArmoredPublicKey: opts.ReleasesKey,
	}
	path, err := lv.Install(ctx)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s: %w", timeout, err)
		}
		return nil, err
	}
	v, err := binaryVersion(ctx, path, env, opts.Sandbox)
	if err != nil {
		return nil, err
	}
	final := filepath.Join(cacheDir, v.String())
	if err := os.Rename(tmp, final); err != nil {
		// Another strata installed the same release meanwhile.
		if _, statErr := os.Stat(filepath.Join(final, "terraform")); statErr != nil {
			return nil, err
		}
	}
	return &Binary{Name: "terraform", Path: filepath.Join(final, "terraform"), Version: v.String()}, nil
}

// releasesURL is where terraform releases come from by default.
const releasesURL = "https://releases.hashicorp.com"

// probeTimeout bounds the connection attempt of probeReleases.
const probeTimeout = 5 * time.Second

// probeReleases opens one connection to the releases host (or to the
// proxy the environment names for it) before a download. An offline
// machine, a name that does not resolve or a refused connection fail here
// at once, instead of after the download's retries, with what to do.
func probeReleases(ctx context.Context, base string) error {
	if base == "" {
		base = releasesURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("releases URL %q is not a URL", base)
	}
	target := u
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err == nil && proxy != nil {
		target = proxy
	}
	port := target.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[target.Scheme]
	}
	d := net.Dialer{Timeout: probeTimeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(target.Hostname(), port))
	if err != nil {
		return fmt.Errorf("cannot reach %s to download it (%v); this machine looks offline: install a matching terraform on PATH", u.Host, err)
	}
	return conn.Close()
}

// environ is env, or the process's environment when env is nil.
func environ(env []string) []string {
	if env == nil {
		return os.Environ()
	}
	return env
}
