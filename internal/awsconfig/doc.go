// Package awsconfig loads the AWS configuration that strata's DynamoDB and
// S3 clients share: the SDK's default chain (environment, shared config and
// credentials files, SSO, web identity, instance roles), including the
// standard AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables.
//
// It adds only bounds: connection and response-header timeouts on the HTTP
// transport and a cap on the delay between retries, so that an unreachable
// endpoint fails in seconds. It must not hard-code anything about AWS
// itself (regions, endpoints, credentials).
package awsconfig
