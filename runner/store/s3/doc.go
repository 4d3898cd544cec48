// Package s3 keeps strata's artifacts in an S3 bucket. Importing it
// registers s3://BUCKET/PREFIX with store.Open.
//
// Layout: key K lives at object PREFIX/K. Every object is written with
// server-side encryption (SSE-S3, AES256), its hex SHA-256 in the user
// metadata "sha256", and S3's own ChecksumSHA256, which S3 checks on upload.
// Reads ask for the checksum back (the SDK then verifies the bytes against
// S3's checksum) and compare the bytes with the recorded metadata, so an
// object replaced behind strata's back is reported as a *store.ChecksumError
// even when its S3 checksum is consistent. A PutObject is atomic: readers
// see the old object or the new one.
//
// Conditional writes (PutIf) send If-Match with the ETag GetTagged
// returned, or If-None-Match: * to create; 412, 409 (a concurrent
// conditional write won) and 404 (If-Match on a deleted key) all mean
// store.ErrPreconditionFailed. With SSE-S3 the ETag is the MD5 of the
// content.
//
// Addressing: the SDK does not read AWS_S3_USE_PATH_STYLE. When a custom
// endpoint is configured (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or the
// shared config file), the client uses path-style URLs
// (ENDPOINT/BUCKET/KEY), which every S3-compatible server and emulator
// (moto, MinIO) and S3 VPC interface endpoints accept; against AWS itself
// it uses the SDK's default virtual-hosted style.
//
// Configuration comes only from the AWS SDK's default chain (package
// internal/awsconfig). The package must not hard-code regions, endpoints or
// credentials.
package s3
