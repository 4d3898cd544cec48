package s3

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-iac/strata/internal/awsconfig"
)

// bucketWait bounds how long EnsureBucket waits for a new bucket to show.
const bucketWait = 2 * time.Minute

// Bucket describes the artifact bucket as EnsureBucket left it.
type Bucket struct {
	Name    string
	Region  string
	Created bool
}

// EnsureBucket creates the artifact bucket when it is missing, with
// versioning on, default encryption (SSE-S3) and every public access
// block set. A bucket that exists is left as it is. An empty region means
// the SDK's default.
func EnsureBucket(ctx context.Context, name, region string) (Bucket, error) {
	if err := checkBucketName(name); err != nil {
		return Bucket{}, err
	}
	cfg, err := awsconfig.Load(ctx, region)
	if err != nil {
		return Bucket{}, err
	}
	client := newClient(cfg)
	b := Bucket{Name: name, Region: cfg.Region}
	fail := func(op string, err error) (Bucket, error) {
		return Bucket{}, fmt.Errorf("s3 bucket %s: %s: %w", name, op, err)
	}
	_, err = client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &name})
	switch {
	case err == nil:
		return b, nil
	case isStatus(err, 403):
		return fail("check", fmt.Errorf("access denied: the bucket belongs to another account, or these credentials may not use it (%w)", err))
	case !isStatus(err, 404):
		return fail("check", err)
	}
	in := &awss3.CreateBucketInput{Bucket: &name}
	if cfg.Region != "us-east-1" {
		// us-east-1 is the one region that refuses its own name as a
		// location constraint.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(cfg.Region),
		}
	}
	if _, err := client.CreateBucket(ctx, in); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return b, nil
		}
		var taken *types.BucketAlreadyExists
		if errors.As(err, &taken) {
			return fail("create", fmt.Errorf("the name is taken by another account: bucket names are global, choose another (%w)", err))
		}
		return fail("create", err)
	}
	b.Created = true
	waiter := awss3.NewBucketExistsWaiter(client, func(o *awss3.BucketExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 5*time.Second
	})
	if err := waiter.Wait(ctx, &awss3.HeadBucketInput{Bucket: &name}, bucketWait); err != nil {
		return fail("wait until it exists", err)
	}
	if _, err := client.PutPublicAccessBlock(ctx, &awss3.PutPublicAccessBlockInput{
		Bucket: &name,
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}); err != nil {
		return fail("block public access", err)
	}
	if _, err := client.PutBucketEncryption(ctx, &awss3.PutBucketEncryptionInput{
		Bucket: &name,
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
			Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
					SSEAlgorithm: types.ServerSideEncryptionAes256,
				},
			}},
		},
	}); err != nil {
		return fail("enable default encryption", err)
	}
	if _, err := client.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{
		Bucket:                  &name,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		return fail("enable versioning", err)
	}
	return b, nil
}
