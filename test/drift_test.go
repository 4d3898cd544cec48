package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/internal/gittest"
	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/planner"
)

// appliedInS3 commits strata.yaml with state in S3 (on the shared moto),
// then plans and applies every stack of the example monorepo.
func appliedInS3(t *testing.T, bucket string) (*gittest.Repo, []string) {
	t.Helper()
	motoserver.Shared(t)
	g, env := monorepo(t)
	table := bucket + "-locks"
	if r := runStrata(t, env, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: exit %d\n%s", r.code, r.stderr)
	}
	g.Write(map[string]string{"strata.yaml": s3Backend(bucket, table)})
	g.Commit("state in s3")
	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--out", out); r.code != 2 {
		t.Fatalf("plan exit %d\n%s", r.code, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 {
		t.Fatalf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return g, env
}

// stateRm does what an operator does by hand: terraform state rm of one
// resource of a stack whose state is in S3, from a checkout of the repo.
func stateRm(t *testing.T, g *gittest.Repo, bucket, dir, addr string) {
	t.Helper()
	stack := filepath.Join(g.Dir, filepath.FromSlash(dir))
	backend := filepath.Join(stack, "zz_by_hand_backend.tf")
	if err := os.WriteFile(backend, []byte(`terraform {
  backend "s3" {}
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(backend)
	defer os.Remove(filepath.Join(stack, ".terraform.lock.hcl"))
	cli := filepath.Join(t.TempDir(), "empty.tfrc")
	os.WriteFile(cli, nil, 0o644)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "TF_DATA_DIR="+t.TempDir(), "TF_IN_AUTOMATION=1")
	for _, args := range [][]string{
		{"init", "-input=false", "-no-color", "-backend-config=bucket=" + bucket, "-backend-config=key=" + dir + "/terraform.tfstate",
			"-backend-config=region=us-east-1", "-backend-config=dynamodb_table=" + bucket + "-locks", "-backend-config=use_path_style=true",
			"-backend-config=skip_credentials_validation=true", "-backend-config=skip_requesting_account_id=true"},
		{"state", "rm", "-no-color", addr},
	} {
		cmd := exec.Command("terraform", args...)
		cmd.Dir, cmd.Env = stack, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
		}
	}
}

func driftReport(t *testing.T, r result) planner.DriftReport {
	t.Helper()
	var rep planner.DriftReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("drift --format json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	return rep
}

func stackOf(rep planner.DriftReport, dir string) planner.DriftStack {
	for _, s := range rep.Stacks {
		if s.Dir == dir {
			return s
		}
	}
	return planner.DriftStack{Dir: dir, Error: "not in the report"}
}

// TestDriftCLI: right after an apply nothing drifted (exit 0); a resource
// taken out of a stack's S3 state by hand makes that stack drifted, with
// the resource's address, and only it (exit 2); -refresh-only does not
// count it, since nothing changed outside Terraform; --out holds the
// report and the plans.
func TestDriftCLI(t *testing.T) {
	bucket := "drift-cli"
	g, env := appliedInS3(t, bucket)
	r := runStrata(t, env, "drift", "--repo", g.Dir, "--parallel", "2", "--format", "json")
	if r.code != 0 {
		t.Fatalf("drift right after apply: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep := driftReport(t, r)
	if len(rep.Stacks) != 6 || rep.Ref != "main" || rep.Commit != g.Git("rev-parse", "HEAD") {
		t.Fatalf("report %+v: want the 6 stacks at main's head", rep)
	}

	stateRm(t, g, bucket, "live/prod/app", "module.app.terraform_data.service")
	out := "s3://" + bucket + "/drift/run-1"
	r = runStrata(t, env, "drift", "--repo", g.Dir, "--parallel", "2", "--format", "json", "--out", out)
	if r.code != 2 {
		t.Fatalf("drift after state rm: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep = driftReport(t, r)
	for _, s := range rep.Stacks {
		if s.Drifted != (s.Dir == "live/prod/app") || s.Error != "" {
			t.Errorf("%s: drifted %v, error %q; want only live/prod/app drifted", s.Dir, s.Drifted, s.Error)
		}
	}
	app := stackOf(rep, "live/prod/app")
	want := []planner.DriftResource{{Address: "module.app.terraform_data.service", Action: "create", Kind: planner.ResourcePlanned}}
	if !reflect.DeepEqual(app.Resources, want) || app.Counts.Create != 1 {
		t.Errorf("live/prod/app: %+v, want the service to create again", app)
	}
	if !strings.Contains(r.stderr, "live/prod/app") {
		t.Errorf("no progress line for the stack on stderr:\n%s", r.stderr)
	}
	checkJSONKeys(t, r.stdout)
	checkDriftOut(t, bucket, "drift/run-1")

	r = runStrata(t, env, "drift", "--repo", g.Dir, "--refresh-only", "--stack", "live/prod/app")
	if r.code != 0 || !strings.Contains(r.stdout, "live/prod/app  in sync") {
		t.Errorf("refresh-only: exit %d, want 0: a resource missing from the state is no change outside Terraform\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runStrata(t, env, "drift", "--repo", g.Dir, "--stack", "live/prod/app", "--stack", "live/prod/network")
	if r.code != 2 || !strings.Contains(r.stdout, "live/prod/app") || !strings.Contains(r.stdout, "module.app.terraform_data.service") ||
		!strings.Contains(r.stdout, "1 of 2 stacks drifted at main") {
		t.Errorf("text report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "drift", "--repo", g.Dir, "--stack", "live/prod/network"); r.code != 0 {
		t.Errorf("a clean stack alone: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// checkJSONKeys checks the exact keys of strata drift's JSON (README.md,
// Drift).
func checkJSONKeys(t *testing.T, stdout string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if got := keys(raw); !reflect.DeepEqual(got, []string{"commit", "ref", "stacks"}) {
		t.Errorf("top-level keys %v", got)
	}
	for _, s := range raw["stacks"].([]any) {
		st := s.(map[string]any)
		if got := keys(st); !reflect.DeepEqual(got, []string{"counts", "dir", "drifted", "error", "resources", "workspace"}) {
			t.Errorf("stack keys %v", got)
		}
		if _, ok := st["resources"].([]any); !ok {
			t.Errorf("%v: resources is not a list", st["dir"])
		}
	}
}

// checkDriftOut checks what drift --out left in S3: the report, the
// summary, the comment and the plans.
func checkDriftOut(t *testing.T, bucket, prefix string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, key := range []string{planner.DriftFile, planner.SummaryFile, planner.CommentFile, "live/prod/app/plan.tfplan", "live/prod/app/plan.json", "live/prod/network/plan.txt"} {
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + key)})
		if err != nil {
			t.Errorf("--out lacks %s: %v", key, err)
			continue
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(obj.Body)
		obj.Body.Close()
		if key == planner.DriftFile && !strings.Contains(body.String(), `"module.app.terraform_data.service"`) {
			t.Errorf("drift.json does not name the resource:\n%s", body.String())
		}
		if key == planner.CommentFile && !strings.Contains(body.String(), "drifted") {
			t.Errorf("comment.md does not say what drifted:\n%s", body.String())
		}
	}
}

// TestDriftUnreachableBackend: a stack whose backend cannot be reached
// fails with the reason; the others are still checked and reported; the
// exit status is 1.
func TestDriftUnreachableBackend(t *testing.T) {
	g, env := monorepo(t)
	g.Write(map[string]string{"live/lost/main.tf": `terraform {
  backend "s3" {
    bucket                      = "nowhere"
    key                         = "lost.tfstate"
    region                      = "us-east-1"
    endpoints                   = { s3 = "http://127.0.0.1:1" }
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    max_retries                 = 1
  }
}

resource "terraform_data" "x" {}
`})
	g.Commit("a stack whose state is out of reach")
	r := runStrata(t, append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"), "drift", "--repo", g.Dir, "--parallel", "2", "--format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep := driftReport(t, r)
	if len(rep.Stacks) != 7 {
		t.Fatalf("%d stacks reported, want all 7", len(rep.Stacks))
	}
	for _, s := range rep.Stacks {
		if s.Dir == "live/lost" {
			if !strings.Contains(s.Error, "init:") || !strings.Contains(s.Error, "127.0.0.1:1") {
				t.Errorf("live/lost: error %q, want init's failure naming the endpoint", s.Error)
			}
			continue
		}
		// Never applied: every other stack is out of sync with main.
		if s.Error != "" || !s.Drifted {
			t.Errorf("%s: drifted %v, error %q; want drifted, checked despite live/lost", s.Dir, s.Drifted, s.Error)
		}
	}
	if !strings.Contains(r.stderr, "could not be checked for drift: live/lost") {
		t.Errorf("stderr does not name the failed stack:\n%s", r.stderr)
	}
}

// pluginMirror returns a filesystem mirror of Terraform providers that
// holds hashicorp/aws: no provider can be downloaded here, and the machine
// image of this project keeps one under /opt/tf-plugins. Without it the
// test skips, or fails under CI=true.
func pluginMirror(t *testing.T) string {
	t.Helper()
	const dir = "/opt/tf-plugins"
	if m, _ := filepath.Glob(filepath.Join(dir, "registry.terraform.io/hashicorp/aws/*", runtime.GOOS+"_"+runtime.GOARCH)); len(m) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no hashicorp/aws provider in %s (CI=true: the machine image provides it)", dir)
		}
		t.Skipf("no hashicorp/aws provider in %s", dir)
	}
	return dir
}

// TestDriftOutsideTerraform changes a real object behind Terraform's back:
// an S3 object (on moto) that a stack manages is overwritten with the SDK.
// Terraform reports it in resource_drift and plans to put it back: the
// stack drifted, in a normal plan and with -refresh-only alike, and the
// report names the object both as changed outside Terraform and as
// planned.
func TestDriftOutsideTerraform(t *testing.T) {
	mirror := pluginMirror(t)
	needTerraform(t)
	motoserver.Shared(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := "drift-flags"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	g := gittest.New(t)
	g.Write(map[string]string{"live/flags/main.tf": fmt.Sprintf(`provider "aws" {
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

resource "aws_s3_object" "flag" {
  bucket   = %q
  key      = "checkout/v2"
  content  = "on"
  metadata = { owner = "orders" }
  tags     = { team = "orders" }
}
`, bucket)})
	g.Commit("a feature flag")
	home := t.TempDir()
	// The operator's CLI config names the mirror: strata never lets
	// terraform use an implied one (README.md, How strata runs Terraform).
	tfrc := operatorCLIConfig(t, fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", mirror))
	env := []string{"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"), "TF_CLI_CONFIG_FILE=" + tfrc}
	out := t.TempDir()
	if r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--out", out); r.code != 2 {
		t.Fatalf("plan exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 {
		t.Fatalf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, mode := range [][]string{nil, {"--refresh-only"}} {
		if r := runStrata(t, env, append([]string{"drift", "--repo", g.Dir}, mode...)...); r.code != 0 {
			t.Fatalf("drift %v right after apply: exit %d\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("checkout/v2"), Body: strings.NewReader("off")}); err != nil {
		t.Fatal(err)
	}
	drifted := planner.DriftResource{Address: "aws_s3_object.flag", Action: "update", Kind: planner.ResourceDrifted}
	for _, tc := range []struct {
		mode []string
		want []planner.DriftResource
	}{
		{nil, []planner.DriftResource{drifted, {Address: "aws_s3_object.flag", Action: "update", Kind: planner.ResourcePlanned}}},
		{[]string{"--refresh-only"}, []planner.DriftResource{drifted}},
	} {
		r := runStrata(t, env, append([]string{"drift", "--repo", g.Dir, "--format", "json"}, tc.mode...)...)
		if r.code != 2 {
			t.Fatalf("drift %v after the object changed: exit %d, want 2\n%s%s", tc.mode, r.code, r.stdout, r.stderr)
		}
		st := stackOf(driftReport(t, r), "live/flags")
		if !st.Drifted || !reflect.DeepEqual(st.Resources, tc.want) {
			t.Errorf("drift %v: %+v, want drifted with %+v", tc.mode, st, tc.want)
		}
	}
}
