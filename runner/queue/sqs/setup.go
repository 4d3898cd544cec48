package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Setup describes the queues EnsureQueue left.
type Setup struct {
	// Name is the FIFO queue's name, ending in .fifo; DeadName its
	// dead-letter queue's.
	Name, DeadName string
	Region         string
	// Created and DeadCreated say whether EnsureQueue made them.
	Created, DeadCreated bool
	// MaxReceiveCount is how many deliveries a message gets before SQS
	// moves it to the dead-letter queue.
	MaxReceiveCount int
}

// DefaultMaxReceiveCount matches the bbolt queue's default MaxAttempts.
const DefaultMaxReceiveCount = 5

// retention is how long both queues keep a message: SQS's longest, 14
// days, so a dead letter outlives a long weekend.
const retention = "1209600"

// deadSuffix names the dead-letter queue after its queue: acme.fifo's is
// acme-dead-letters.fifo.
const deadSuffix = "-dead-letters.fifo"

// EnsureQueue creates the FIFO queue name (".fifo" is appended when
// missing) and its dead-letter queue when they are missing: server-side
// encryption on, 14 days' retention, long polling, and a redrive policy
// moving a message to the dead-letter queue after maxReceive deliveries
// (0: DefaultMaxReceiveCount). Queues that exist are left as they are,
// once checked to be FIFO and, for the queue, to have a redrive policy.
// An empty region means the SDK's default.
func EnsureQueue(ctx context.Context, name, region string, maxReceive int) (Setup, error) {
	if !strings.HasSuffix(name, ".fifo") {
		name += ".fifo"
	}
	if err := checkName(name); err != nil {
		return Setup{}, err
	}
	if maxReceive <= 0 {
		maxReceive = DefaultMaxReceiveCount
	}
	dead := strings.TrimSuffix(name, ".fifo") + deadSuffix
	if err := checkName(dead); err != nil {
		return Setup{}, fmt.Errorf("queue name %s is too long to name its dead-letter queue %s: %w", name, dead, err)
	}
	client, err := newClient(ctx, region)
	if err != nil {
		return Setup{}, err
	}
	s := Setup{Name: name, DeadName: dead, Region: client.Options().Region, MaxReceiveCount: maxReceive}
	deadURL, created, err := ensure(ctx, client, dead, nil)
	if err != nil {
		return Setup{}, err
	}
	s.DeadCreated = created
	arn, err := attribute(ctx, client, deadURL, types.QueueAttributeNameQueueArn)
	if err != nil {
		return Setup{}, fmt.Errorf("SQS queue %s: %w", dead, err)
	}
	policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": arn, "maxReceiveCount": strconv.Itoa(maxReceive)})
	url, created, err := ensure(ctx, client, name, map[string]string{
		string(types.QueueAttributeNameRedrivePolicy):                 string(policy),
		string(types.QueueAttributeNameReceiveMessageWaitTimeSeconds): strconv.Itoa(pollWait),
	})
	if err != nil {
		return Setup{}, err
	}
	s.Created = created
	if !created {
		rp, err := attribute(ctx, client, url, types.QueueAttributeNameRedrivePolicy)
		if err != nil {
			return Setup{}, fmt.Errorf("SQS queue %s: %w", name, err)
		}
		p, err := parseRedrive(rp)
		if err != nil {
			return Setup{}, fmt.Errorf("SQS queue %s exists but %w; strata needs one: give it a redrive policy or delete it", name, err)
		}
		s.MaxReceiveCount = p.MaxReceiveCount
		if s.DeadName, _, err = nameFromARN(p.DeadLetterTargetARN); err != nil {
			return Setup{}, fmt.Errorf("SQS queue %s: redrive policy: %w", name, err)
		}
	}
	return s, nil
}

// ensure creates the FIFO queue name with extra attributes when it is
// missing, and checks that an existing one is FIFO.
func ensure(ctx context.Context, c *awssqs.Client, name string, extra map[string]string) (url string, created bool, err error) {
	out, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: &name})
	var missing *types.QueueDoesNotExist
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
		fifo, err := attribute(ctx, c, url, types.QueueAttributeNameFifoQueue)
		if err != nil {
			return "", false, fmt.Errorf("SQS queue %s: %w", name, err)
		}
		if fifo != "true" {
			return "", false, fmt.Errorf("SQS queue %s exists and is not a FIFO queue", name)
		}
		return url, false, nil
	case !errors.As(err, &missing):
		return "", false, fmt.Errorf("SQS queue %s: %w", name, err)
	}
	attrs := map[string]string{
		string(types.QueueAttributeNameFifoQueue):                 "true",
		string(types.QueueAttributeNameSqsManagedSseEnabled):      "true",
		string(types.QueueAttributeNameMessageRetentionPeriod):    retention,
		string(types.QueueAttributeNameContentBasedDeduplication): "false",
	}
	for k, v := range extra {
		attrs[k] = v
	}
	made, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return "", false, fmt.Errorf("SQS queue %s: create: %w", name, err)
	}
	return aws.ToString(made.QueueUrl), true, nil
}

func attribute(ctx context.Context, c *awssqs.Client, url string, name types.QueueAttributeName) (string, error) {
	out, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{name}})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(name)], nil
}
