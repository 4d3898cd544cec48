package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strata-iac/strata/internal/awsconfig"
	"github.com/strata-iac/strata/runner/store"
)

// metaSHA256 is the user-metadata name of the recorded hex SHA-256
// (sent as x-amz-meta-sha256).
const metaSHA256 = "sha256"

func init() {
	store.Register("s3", "s3://BUCKET/PREFIX (S3)", func(ctx context.Context, target string) (store.Store, error) {
		return New(ctx, target)
	})
}

// Store is a store.Store in an S3 bucket, under a prefix.
type Store struct {
	client *awss3.Client
	bucket string
	prefix string // "" or ending in "/"
}

var _ store.Store = (*Store)(nil)

// New opens "BUCKET" or "BUCKET/PREFIX" (the part of an s3:// URL after
// the scheme). The bucket must exist (EnsureBucket creates it).
func New(ctx context.Context, target string) (*Store, error) {
	bucket, prefix, _ := strings.Cut(target, "/")
	if err := checkBucketName(bucket); err != nil {
		return nil, err
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		if err := store.CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("bad prefix in s3://%s: %w", target, err)
		}
		prefix += "/"
	}
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		return nil, err
	}
	s := &Store{client: newClient(cfg), bucket: bucket, prefix: prefix}
	if _, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &bucket}); err != nil {
		if isStatus(err, 404) {
			return nil, fmt.Errorf("bucket %s not found (create it with: strata setup aws --bucket %s --table TABLE)", bucket, bucket)
		}
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return s, nil
}

func (s *Store) String() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }

func (s *Store) Put(ctx context.Context, key string, data []byte) (string, error) {
	sum, _, err := s.put(ctx, key, data, nil)
	return sum, err
}

// PutIf implements store.Store with S3's conditional writes: If-Match on
// the object's ETag, or If-None-Match: * for a key that must be absent.
// S3 answers 412 when the condition fails, 409 when a concurrent
// conditional write won the race, and 404 to an If-Match on a missing
// key: each of them is store.ErrPreconditionFailed.
func (s *Store) PutIf(ctx context.Context, key string, data []byte, ifMatch string) (string, error) {
	_, etag, err := s.put(ctx, key, data, func(in *awss3.PutObjectInput) {
		if ifMatch == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = aws.String(ifMatch)
		}
	})
	return etag, err
}

// put writes key; condition, when set, adds the preconditions.
func (s *Store) put(ctx context.Context, key string, data []byte, condition func(*awss3.PutObjectInput)) (sha, etag string, err error) {
	if err := store.CheckKey(key); err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	in := &awss3.PutObjectInput{
		Bucket:               &s.bucket,
		Key:                  aws.String(s.prefix + key),
		Body:                 bytes.NewReader(data),
		ContentLength:        aws.Int64(int64(len(data))),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
		Metadata:             map[string]string{metaSHA256: hexSum},
		ChecksumAlgorithm:    types.ChecksumAlgorithmSha256,
		ChecksumSHA256:       aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if condition != nil {
		condition(in)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if condition != nil && (isStatus(err, 412) || isStatus(err, 409) || isStatus(err, 404)) {
			return "", "", fmt.Errorf("%s: put %q: %w", s, key, store.ErrPreconditionFailed)
		}
		return "", "", s.fail("put", key, err)
	}
	return hexSum, aws.ToString(out.ETag), nil
}

func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	data, _, err := s.GetTagged(ctx, key)
	return data, err
}

// GetTagged implements store.Store: the tag is the object's ETag.
func (s *Store) GetTagged(ctx context.Context, key string) ([]byte, string, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, "", err
	}
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket:       &s.bucket,
		Key:          aws.String(s.prefix + key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return nil, "", s.fail("get", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		if strings.Contains(err.Error(), "checksum did not match") {
			return nil, "", fmt.Errorf("%s: %s: S3 reports the object differs from the checksum it stored: %w (%v)", s, key, store.ErrChecksum, err)
		}
		return nil, "", s.fail("get", key, err)
	}
	want, ok := out.Metadata[metaSHA256]
	if !ok {
		return nil, "", fmt.Errorf("%s: %s: no sha256 recorded in its metadata (not written by strata): %w", s, key, store.ErrChecksum)
	}
	if err := store.Verify(key, want, data); err != nil {
		return nil, "", err
	}
	return data, aws.ToString(out.ETag), nil
}

func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	keys := []string{}
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list", prefix, err)
		}
		for _, o := range page.Contents {
			// Objects whose names are not valid keys (written by something
			// else) cannot be read through the store, so they are not listed.
			if key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix); store.CheckKey(key) == nil {
				keys = append(keys, key)
			}
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// fail wraps err with the store and key; a missing object is ErrNotFound.
func (s *Store) fail(op, key string, err error) error {
	var nsk *types.NoSuchKey
	if op == "get" && (errors.As(err, &nsk) || isStatus(err, 404)) {
		return fmt.Errorf("%s: %s: %w", s, key, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %s %q: %w", s, op, key, err)
}

// isStatus reports whether err is an HTTP response error with code.
func isStatus(err error, code int) bool {
	var re interface{ HTTPStatusCode() int }
	var apiErr smithy.APIError
	return errors.As(err, &re) && re.HTTPStatusCode() == code ||
		code == 404 && errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NotFound" || apiErr.ErrorCode() == "NoSuchBucket")
}

func newClient(cfg aws.Config) *awss3.Client {
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.Retryer = awsconfig.BoundRetries(o.Retryer)
		// See the package doc: path style whenever the endpoint is not AWS's.
		o.UsePathStyle = o.BaseEndpoint != nil
		// Objects strata did not write may lack an S3 checksum; Get then
		// relies on the recorded sha256 alone, without a log line per read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func checkBucketName(bucket string) error {
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return fmt.Errorf("bad S3 bucket name %q: use 3 to 63 lower-case letters, digits, '.' or '-' (s3://BUCKET/PREFIX)", bucket)
	}
	return nil
}
