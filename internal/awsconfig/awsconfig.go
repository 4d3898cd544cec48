package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Bounds on one request. With the SDK's default of 3 attempts, a refused
// connection fails in about 2 s and a black-holed endpoint in about 11 s.
const (
	dialTimeout           = 3 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 30 * time.Second
	maxRetryDelay         = time.Second
)

// ErrNoRegion is Load's error when no region is configured at all. It
// names the ways every command has; a command with a --region flag adds
// it.
var ErrNoRegion = errors.New("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), or a region in the AWS profile")

// Load returns the configuration of the SDK's default chain. A non-empty
// region overrides the region the chain finds. It fails with ErrNoRegion
// when no region is configured at all.
func Load(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
			WithTransportOptions(func(t *http.Transport) {
				t.TLSHandshakeTimeout = tlsHandshakeTimeout
				t.ResponseHeaderTimeout = responseHeaderTimeout
			})),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// BoundRetries caps the delay between the attempts of r, keeping its
// attempt count and its idea of what is retryable. Clients apply it to the
// retryer the SDK resolved for their service.
func BoundRetries(r aws.Retryer) aws.Retryer {
	v2, ok := r.(aws.RetryerV2)
	if !ok {
		return retry.AddWithMaxBackoffDelay(r, maxRetryDelay)
	}
	return cappedDelay{RetryerV2: v2}
}

type cappedDelay struct{ aws.RetryerV2 }

func (c cappedDelay) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := c.RetryerV2.RetryDelay(attempt, err)
	return min(d, maxRetryDelay), derr
}
