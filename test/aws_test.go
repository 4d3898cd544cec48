package test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/internal/motoserver"
)

// s3Backend is a strata.yaml that keeps every stack's state in S3 (on moto)
// with the state lock in DynamoDB.
func s3Backend(bucket, table string) string {
	return fmt.Sprintf(`version: 1
stacks:
  - dir: live/prod/database
    depends_on: [live/prod/network]
  - dir: live/prod/app
    depends_on: [live/prod/network, live/prod/database]
backend:
  s3:
    bucket: %s
    region: us-east-1
    key: "{{ .Dir }}/terraform.tfstate"
    dynamodb_table: %s
    use_path_style: true
    skip_credentials_validation: true
    skip_requesting_account_id: true
    skip_metadata_api_check: true
`, bucket, table)
}

// TestPlanApplyWithStateInS3: strata setup aws makes the bucket and table;
// plans go to s3:// and are applied from there; the state lands in S3 under
// the templated key, the DynamoDB table held the state lock, and a second
// plan finds nothing to do.
func TestPlanApplyWithStateInS3(t *testing.T) {
	motoserver.Shared(t)
	g, env := monorepo(t)
	bucket, table := "state-e2e", "locks-e2e"
	if r := runStrata(t, env, "setup", "aws", "--table", table, "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: exit %d\n%s", r.code, r.stderr)
	}
	g.Write(map[string]string{"strata.yaml": s3Backend(bucket, table)})
	g.Commit("state in s3")
	out := "s3://" + bucket + "/plans/run-1"

	r := runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--out", out)
	if r.code != 2 {
		t.Fatalf("plan exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", out); r.code != 0 {
		t.Fatalf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, dir := range []string{"live/prod/network", "live/prod/app", "live/staging/database"} {
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(dir + "/terraform.tfstate")})
		if err != nil {
			t.Fatalf("state of %s not in S3: %v", dir, err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !strings.Contains(string(body), "terraform_data") {
			t.Errorf("state of %s holds no resources:\n%s", dir, body)
		}
	}
	items, err := dynamodb.NewFromConfig(cfg).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	digests := 0
	for _, it := range items.Items {
		if id, ok := it["LockID"].(*types.AttributeValueMemberS); ok && strings.HasSuffix(id.Value, "/terraform.tfstate-md5") {
			digests++
		}
	}
	if digests == 0 {
		t.Errorf("no state digest in %s: the DynamoDB state lock was not used (%d items)", table, len(items.Items))
	}
	r = runStrata(t, env, "plan", "--repo", g.Dir, "--all", "--out", "s3://"+bucket+"/plans/run-2")
	if r.code != 0 {
		t.Fatalf("second plan exit %d, want 0 (no changes)\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestMotoStopsMidRun: the S3 endpoint goes away while strata plans; strata
// fails with a clear error in bounded time and records no complete run.
func TestMotoStopsMidRun(t *testing.T) {
	srv := motoserver.Start(t)
	g, env := monorepo(t)
	bucket := "midrun"
	if r := runStrata(t, env, "setup", "aws", "--table", "midrun-locks", "--bucket", bucket); r.code != 0 {
		t.Fatalf("setup aws: exit %d\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, strataBin(), "plan", "--repo", g.Dir, "--all", "--parallel", "1", "--out", "s3://"+bucket+"/run")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Stop moto as soon as the first stack has been planned.
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "live/") {
		n, err := stderr.Read(buf)
		if err != nil {
			t.Fatalf("strata ended before planning a stack: %v\n%s", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	srv.Stop()
	stopped := time.Now()
	rest, _ := io.ReadAll(stderr)
	seen.Write(rest)
	err = cmd.Wait()
	elapsed := time.Since(stopped)
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("plan with S3 gone: %v, want exit 1\n%s", err, seen.String())
	}
	if !strings.Contains(seen.String(), "s3://"+bucket) || !strings.Contains(seen.String(), "connect") {
		t.Errorf("error does not name the store and the connection failure:\n%s", seen.String())
	}
	t.Logf("failed %.1fs after the endpoint went away", elapsed.Seconds())
	srv.Restart(t)
	r := runStrata(t, env, "apply", "--repo", g.Dir, "--out", "s3://"+bucket+"/run")
	if r.code != 1 {
		t.Errorf("apply of a run cut short: exit %d, want 1\n%s", r.code, r.stderr)
	}
}
