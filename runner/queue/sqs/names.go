package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-iac/strata/internal/awsconfig"
)

// maxBody is SQS's default limit on a message body.
const maxBody = 256 << 10

// maxVisibility is SQS's longest visibility timeout: 12 hours.
const maxVisibility = 12 * time.Hour

var queueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,75}\.fifo$`)

func checkName(name string) error {
	if !queueName.MatchString(name) {
		return fmt.Errorf("bad SQS queue name %q: strata needs a FIFO queue, whose name is 1 to 75 letters, digits, '-' or '_' followed by .fifo (sqs://QUEUE.fifo)", name)
	}
	return nil
}

// groupMessageID is what SQS allows in a MessageGroupId: up to 128
// characters, letters, digits and punctuation.
var groupMessageID = regexp.MustCompile("^[A-Za-z0-9!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]{1,128}$")

// groupID is the MessageGroupId of an item: its Group when SQS accepts it
// as is (readable in the console), else a hash of it; an item without a
// group gets a group of its own.
func groupID(it Item) string {
	switch {
	case it.Group == "":
		return "item:" + dedupID(it.ID)
	case groupMessageID.MatchString(it.Group):
		return it.Group
	}
	return "sha256:" + hash(it.Group)
}

// dedupID is the MessageDeduplicationId of an item ID: its SHA-256, in
// the 128 characters SQS allows whatever the ID's length and alphabet.
func dedupID(id string) string { return hash(id) }

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// visibility is d as an SQS visibility timeout: whole seconds, rounded
// up, within SQS's bounds.
func visibility(d time.Duration) int32 {
	d = min(max(d, 0), maxVisibility)
	return int32(math.Ceil(d.Seconds()))
}

// redrive is a queue's RedrivePolicy attribute.
type redrive struct {
	DeadLetterTargetARN string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

func parseRedrive(attr string) (redrive, error) {
	if attr == "" {
		return redrive{}, errors.New("no redrive policy: the queue has no dead-letter queue")
	}
	var raw struct {
		DeadLetterTargetARN string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(attr), &raw); err != nil {
		return redrive{}, fmt.Errorf("unreadable redrive policy %q: %w", attr, err)
	}
	// SQS gives maxReceiveCount as a number or as a string.
	n, err := strconv.Atoi(strings.Trim(string(raw.MaxReceiveCount), `"`))
	if err != nil || n < 1 || raw.DeadLetterTargetARN == "" {
		return redrive{}, fmt.Errorf("redrive policy %q lacks a dead-letter queue or a maxReceiveCount", attr)
	}
	return redrive{DeadLetterTargetARN: raw.DeadLetterTargetARN, MaxReceiveCount: n}, nil
}

// nameFromARN splits arn:aws:sqs:REGION:ACCOUNT:NAME.
func nameFromARN(arn string) (name, account string, err error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return "", "", fmt.Errorf("%q is not an SQS queue ARN", arn)
	}
	return parts[5], parts[4], nil
}

// queueURL resolves a queue name (in account, when not empty).
func queueURL(ctx context.Context, c *awssqs.Client, name, account string) (string, error) {
	in := &awssqs.GetQueueUrlInput{QueueName: &name}
	if account != "" {
		in.QueueOwnerAWSAccountId = &account
	}
	out, err := c.GetQueueUrl(ctx, in)
	var missing *types.QueueDoesNotExist
	if errors.As(err, &missing) {
		return "", fmt.Errorf("SQS queue %s not found (create it with: strata setup aws --queue %s)", name, name)
	}
	if err != nil {
		return "", fmt.Errorf("SQS queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// sentAt is when SQS received a message.
func sentAt(m types.Message) time.Time {
	ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func newClient(ctx context.Context, region string) (*awssqs.Client, error) {
	cfg, err := awsconfig.Load(ctx, region)
	if err != nil {
		return nil, err
	}
	return awssqs.NewFromConfig(cfg, func(o *awssqs.Options) {
		o.Retryer = awsconfig.BoundRetries(o.Retryer)
	}), nil
}
