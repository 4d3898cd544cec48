package planner

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-iac/strata/internal/motoserver"
)

// TestS3Backend plans and applies a stack with no backend block and one
// with a partial s3 block, with backend.s3 pointing at moto: the state
// lands in the bucket under the templated key, and a second plan finds
// nothing to do.
func TestS3Backend(t *testing.T) {
	url := motoserver.Start(t).URL
	ctx := context.Background()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-tfstate")}); err != nil {
		t.Fatal(err)
	}
	r := newTestRunner(t, Options{})
	backend := &Backend{S3: map[string]any{
		"bucket":                      "acme-tfstate",
		"region":                      "us-east-1",
		"key":                         "{{ .Dir }}/{{ .Workspace }}.tfstate",
		"endpoints":                   map[string]any{"s3": url},
		"use_path_style":              true,
		"use_lockfile":                true,
		"skip_credentials_validation": true,
		"skip_requesting_account_id":  true,
		"skip_metadata_api_check":     true,
	}}
	files := map[string]string{
		"live/none/main.tf":    twoResources,
		"live/partial/main.tf": twoResources + "terraform {\n  backend \"s3\" {}\n}\n",
	}
	for _, dir := range []string{"live/none", "live/partial"} {
		t.Run(dir, func(t *testing.T) {
			job := func() Job { return Job{Dir: dir, Root: export(t, files), Backend: backend} }
			plan := r.Plan(ctx, job())
			if plan.Status != StatusChanges {
				t.Fatalf("plan: %s %s\n%s", plan.Status, plan.Error, plan.Log)
			}
			if res := r.Apply(ctx, job(), plan.PlanFile, plan.PlanSHA256); res.Status != StatusApplied {
				t.Fatalf("apply: %s %s\n%s", res.Status, res.Error, res.Log)
			}
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-tfstate"), Key: aws.String(dir + "/default.tfstate")})
			if err != nil {
				t.Fatalf("state in S3: %v", err)
			}
			defer obj.Body.Close()
			body, _ := io.ReadAll(obj.Body)
			var state struct {
				Resources []any `json:"resources"`
			}
			if json.Unmarshal(body, &state) != nil || len(state.Resources) != 2 {
				t.Errorf("state in S3: %s", body)
			}
			if again := r.Plan(ctx, job()); again.Status != StatusNoChanges {
				t.Errorf("second plan: %s %s\n%s", again.Status, again.Error, again.Log)
			}
		})
	}
}
