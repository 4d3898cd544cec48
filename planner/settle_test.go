package planner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/planner/tf"
)

// TestOwnLock: strata releases only the lock its interrupted apply took:
// an apply's, by this user and host, with this terraform, since the apply
// began. Never a plan's, another host's, another version's or an older
// one.
func TestOwnLock(t *testing.T) {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mine := tf.LockInfo{ID: "1", Operation: "OperationTypeApply", Who: terraformWho(), Version: "1.11.4", Created: since.Add(3 * time.Second)}
	if !ownLock(&mine, since, "1.11.4") {
		t.Errorf("the interrupted apply's own lock is not recognised: %+v", mine)
	}
	for name, change := range map[string]func(*tf.LockInfo){
		"a plan's":        func(l *tf.LockInfo) { l.Operation = "OperationTypePlan" },
		"another host's":  func(l *tf.LockInfo) { l.Who = "alice@laptop" },
		"another version": func(l *tf.LockInfo) { l.Version = "1.9.0" },
		"an older one":    func(l *tf.LockInfo) { l.Created = since.Add(-time.Minute) },
	} {
		l := mine
		change(&l)
		if ownLock(&l, since, "1.11.4") {
			t.Errorf("%s lock would be released: %+v", name, l)
		}
	}
}

func TestUnfinished(t *testing.T) {
	out := `terraform_data.a: Creating...
terraform_data.a: Creation complete after 0s [id=1]
terraform_data.b["x y"]: Destroying... [id=2]
module.m.terraform_data.c: Modifying... [id=3]
module.m.terraform_data.c: Modifications complete after 1s [id=3]
terraform_data.d: Creating...
terraform_data.d: Provisioning with 'local-exec'...
Stopping operation...`
	if got := unfinished(out); !slices.Equal(got, []string{`terraform_data.b["x y"]`, "terraform_data.d"}) {
		t.Errorf("unfinished %q", got)
	}
}

// TestKilledApplyLeavesNoLock: terraform killed in the middle of an apply
// (the grace period over) leaves its state lock in the S3 backend; strata
// reads the lock, sees it is the one its apply took, releases it with
// terraform force-unlock, and says so. The next plan runs.
func TestKilledApplyLeavesNoLock(t *testing.T) {
	url := motoserver.Start(t).URL
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("killed-tfstate")}); err != nil {
		t.Fatal(err)
	}
	backend := &Backend{S3: map[string]any{
		"bucket": "killed-tfstate", "region": "us-east-1", "key": "{{ .Dir }}.tfstate", "endpoints": map[string]any{"s3": url},
		"use_path_style": true, "use_lockfile": true, "skip_credentials_validation": true,
		"skip_requesting_account_id": true, "skip_metadata_api_check": true,
	}}
	started := filepath.Join(t.TempDir(), "started")
	files := map[string]string{"live/slow/main.tf": `resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch '` + started + `' && sleep 30"
  }
}
`}
	job := func() Job { return Job{Dir: "live/slow", Root: export(t, files), Backend: backend} }
	// A grace of a millisecond: terraform is killed right after its
	// interrupt, before it can release anything.
	r := newTestRunner(t, Options{Grace: time.Millisecond})
	plan := r.Plan(ctx, job())
	if plan.Status != StatusChanges {
		t.Fatalf("plan: %s %s\n%s", plan.Status, plan.Error, plan.Log)
	}
	applyCtx, cancel := context.WithCancel(ctx)
	done := make(chan Result)
	go func() { done <- r.Apply(applyCtx, job(), plan.PlanFile, plan.PlanSHA256) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the provisioner never started:\n%s", (<-done).Log)
		}
	}
	cancel()
	res := <-done
	in := res.Interrupted
	if res.Status != StatusError || in == nil || in.LockReleased == "" || in.LockHeld != "" {
		t.Fatalf("%s %q, interruption %+v: want the apply's own lock released\n%s", res.Status, res.Error, in, res.Log)
	}
	if !strings.Contains(res.Error, "the state lock it left ("+in.LockReleased+") is released") ||
		!strings.Contains(res.Log, "force-unlock -force -no-color "+in.LockReleased) {
		t.Errorf("error %q or log does not show the release:\n%s", res.Error, res.Log)
	}
	quick := newTestRunner(t, Options{LockTimeout: time.Millisecond})
	if next := quick.Plan(ctx, job()); next.Status == StatusError {
		t.Errorf("the next plan could not run: %s\n%s", next.Error, next.Log)
	}

	// After a crash of strata itself, a fresh run finds out the same.
	settled := quick.Settle(ctx, job(), time.Now().Add(-time.Minute))
	if settled.Status != StatusError || settled.Interrupted == nil ||
		!strings.HasPrefix(settled.Error, "apply interrupted: strata stopped before terraform reported the end of the apply begun at ") ||
		!strings.Contains(settled.Error, "the state is not locked") || !strings.HasSuffix(settled.Error, "plan again, then apply the new plan.") {
		t.Errorf("settle: %s %q %+v\n%s", settled.Status, settled.Error, settled.Interrupted, settled.Log)
	}
}
