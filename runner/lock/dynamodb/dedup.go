package dynamodb

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-iac/strata/internal/awsconfig"
)

// seenPrefix starts the LockID of a remembered delivery; see the package
// doc.
const seenPrefix = "strata-seen:"

// attrSeen is when a delivery was remembered (S, RFC 3339 UTC).
const attrSeen = "seen_at"

// Dedup remembers queue item IDs (webhook deliveries) in the lock table,
// for a queue whose own deduplication is short: it is the queue.Dedup of
// the SQS queue. One item per ID, expiring through the table's TTL.
type Dedup struct {
	client *ddb.Client
	table  string
}

// NewDedup opens the delivery memory in table, which must have the lock
// table's key schema (EnsureTable creates it).
func NewDedup(ctx context.Context, table string) (*Dedup, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx, "")
	if err != nil {
		return nil, err
	}
	d := &Dedup{client: newClient(cfg), table: table}
	out, err := d.client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, tableError(table, "open", "", err)
	}
	if err := checkSchema(out.Table); err != nil {
		return nil, err
	}
	return d, nil
}

// Seen reports whether id was remembered and has not expired; an item
// DynamoDB's TTL has not deleted yet counts as expired once its time has
// passed.
func (d *Dedup) Seen(ctx context.Context, id string) (bool, error) {
	out, err := d.client.GetItem(ctx, &ddb.GetItemInput{
		TableName: &d.table, Key: map[string]types.AttributeValue{attrID: str(seenPrefix + id)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, tableError(d.table, "read delivery", id, err)
	}
	n, ok := out.Item[attrExpires].(*types.AttributeValueMemberN)
	if !ok {
		return false, nil
	}
	secs, err := strconv.ParseInt(n.Value, 10, 64)
	return err == nil && time.Now().Unix() < secs, nil
}

// Remember records id until the time given.
func (d *Dedup) Remember(ctx context.Context, id string, until time.Time) error {
	_, err := d.client.PutItem(ctx, &ddb.PutItemInput{TableName: &d.table, Item: map[string]types.AttributeValue{
		attrID:      str(seenPrefix + id),
		attrExpires: epoch(until),
		attrSeen:    str(time.Now().UTC().Format(time.RFC3339Nano)),
	}})
	if err != nil {
		return tableError(d.table, "remember delivery", id, err)
	}
	return nil
}
