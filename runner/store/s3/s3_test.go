package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/runner/store"
	"github.com/strata-iac/strata/runner/store/s3"
	"github.com/strata-iac/strata/runner/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

var buckets atomic.Int64

// newBucket creates a fresh bucket on the shared moto server.
func newBucket(t *testing.T) string {
	t.Helper()
	motoserver.Shared(t)
	name := fmt.Sprintf("strata-artifacts-%d", buckets.Add(1))
	if _, err := s3.EnsureBucket(t.Context(), name, ""); err != nil {
		t.Fatal(err)
	}
	return name
}

// rawClient talks to the bucket behind the store's back.
func rawClient(t *testing.T) *awss3.Client {
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.UsePathStyle = true })
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(string, []byte)) {
		bucket := newBucket(t)
		s, err := store.Open(t.Context(), "s3://"+bucket+"/artifacts/acme")
		if err != nil {
			t.Fatal(err)
		}
		raw := rawClient(t)
		return s, func(key string, data []byte) {
			objKey := "artifacts/acme/" + key
			head, err := raw.HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: &bucket, Key: &objKey})
			if err != nil {
				t.Fatal(err)
			}
			// Same recorded sha256, different bytes; S3 computes a fresh
			// checksum of its own for them.
			_, err = raw.PutObject(t.Context(), &awss3.PutObjectInput{
				Bucket: &bucket, Key: &objKey, Body: bytes.NewReader(data), Metadata: head.Metadata,
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestObjectsAreEncryptedAndChecksummed checks what lands in S3: the
// object under the prefix, SSE on, the sha256 metadata and S3's own
// SHA-256 checksum.
func TestObjectsAreEncryptedAndChecksummed(t *testing.T) {
	bucket := newBucket(t)
	s, err := store.Open(t.Context(), "s3://"+bucket+"/pre/fix/")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "s3://"+bucket+"/pre/fix" {
		t.Errorf("String() = %q", got)
	}
	sum, err := s.Put(t.Context(), "live/app/plan.tfplan", []byte("plan"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := rawClient(t).HeadObject(t.Context(), &awss3.HeadObjectInput{
		Bucket: &bucket, Key: aws.String("pre/fix/live/app/plan.tfplan"), ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		t.Fatalf("the object is not at PREFIX/KEY: %v", err)
	}
	if head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("ServerSideEncryption = %q, want AES256", head.ServerSideEncryption)
	}
	if head.Metadata["sha256"] != sum {
		t.Errorf("sha256 metadata = %q, want %s", head.Metadata["sha256"], sum)
	}
	if aws.ToString(head.ChecksumSHA256) == "" {
		t.Error("no S3 ChecksumSHA256 on the object")
	}
	other, err := store.Open(t.Context(), "s3://"+bucket+"/other")
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := other.List(t.Context(), ""); err != nil || len(keys) != 0 {
		t.Errorf("a store under another prefix lists %q, %v; want none", keys, err)
	}
	if _, err := other.Get(t.Context(), "live/app/plan.tfplan"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a store under another prefix reads %v, want ErrNotFound", err)
	}
}

func TestForeignObjectIsRefused(t *testing.T) {
	bucket := newBucket(t)
	_, err := rawClient(t).PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("foreign"), Body: strings.NewReader("x"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.Context(), "s3://"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "foreign"); !errors.Is(err, store.ErrChecksum) {
		t.Errorf("Get of an object without sha256 metadata = %v, want ErrChecksum", err)
	}
}

func TestEnsureBucketIsIdempotent(t *testing.T) {
	motoserver.Shared(t)
	name := fmt.Sprintf("strata-ensure-%d", buckets.Add(1))
	first, err := s3.EnsureBucket(t.Context(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Region != motoserver.Region {
		t.Errorf("first EnsureBucket = %+v, want created in %s", first, motoserver.Region)
	}
	second, err := s3.EnsureBucket(t.Context(), name, "")
	if err != nil || second.Created {
		t.Errorf("second EnsureBucket = %+v, %v; want found", second, err)
	}
	raw := rawClient(t)
	ver, err := raw.GetBucketVersioning(t.Context(), &awss3.GetBucketVersioningInput{Bucket: &name})
	if err != nil || ver.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning = %+v, %v; want Enabled", ver, err)
	}
	enc, err := raw.GetBucketEncryption(t.Context(), &awss3.GetBucketEncryptionInput{Bucket: &name})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) != 1 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Errorf("default encryption = %+v, %v; want AES256", enc, err)
	}
	pab, err := raw.GetPublicAccessBlock(t.Context(), &awss3.GetPublicAccessBlockInput{Bucket: &name})
	if err != nil {
		t.Fatal(err)
	}
	c := pab.PublicAccessBlockConfiguration
	if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block = %+v, want all four on", c)
	}
	other := fmt.Sprintf("strata-eu-%d", buckets.Add(1))
	eu, err := s3.EnsureBucket(t.Context(), other, "eu-west-1")
	if err != nil || !eu.Created || eu.Region != "eu-west-1" {
		t.Errorf("EnsureBucket in eu-west-1 = %+v, %v", eu, err)
	}
}

func TestOpenErrors(t *testing.T) {
	motoserver.Shared(t)
	for url, want := range map[string]string{
		"s3://no-such-bucket/x": "no-such-bucket not found",
		"s3://Bad_Bucket":       "bad S3 bucket name",
		"s3://ok-bucket/../x":   "bad prefix",
	} {
		if _, err := store.Open(t.Context(), url); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", url, err, want)
		}
	}
}

// TestServerStopped: with the endpoint gone, Put fails with the store's
// error (not the caller's deadline), and once the endpoint is back the key
// is absent: nothing half-written shows up.
func TestServerStopped(t *testing.T) {
	srv := motoserver.Start(t)
	if _, err := s3.EnsureBucket(t.Context(), "stopped", ""); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.Context(), "s3://stopped/p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "before", []byte("x")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sum, err := s.Put(ctx, "during", bytes.Repeat([]byte("p"), 1<<20))
	if err == nil || sum != "" || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("Put with the endpoint stopped = %q, %v; want the store's own error well before the deadline", sum, err)
	}
	if !strings.Contains(err.Error(), `s3://stopped/p: put "during"`) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not name the store, the key and the cause", err)
	}
	srv.Restart(t)
	if _, err := s3.EnsureBucket(t.Context(), "stopped", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "during"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of the failed Put after restart = %v, want ErrNotFound", err)
	}
	if keys, err := s.List(t.Context(), ""); err != nil || !slices.Equal(keys, []string{}) {
		t.Errorf("List after restart = %q, %v", keys, err)
	}
}
