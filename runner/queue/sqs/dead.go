package sqs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-iac/strata/runner/queue"
)

// deadQueue is the dead-letter queue the redrive policy names.
type deadQueue struct{ name, url string }

// listVisibility is how long Dead hides the dead letters it has read, so
// that its next receive returns others; it makes them visible again when
// done.
const listVisibility = 30

// bury moves a leased message to the dead-letter queue with reason, then
// deletes it from the queue. Should the process die between the two, the
// message is handled again and its next burial is dropped by the
// dead-letter queue's deduplication.
func (q *Queue) bury(ctx context.Context, l *queue.Lease, reason string) error {
	d := queue.DeadItem{Item: l.Item, Attempts: l.Attempt, Enqueued: l.Enqueued, Died: q.opts.Now().UTC(), Reason: reason}
	if err := q.sendDead(ctx, d); err != nil {
		return err
	}
	if err := q.remove(ctx, l.Handle); err != nil {
		return err
	}
	q.log.Error("queue: item moved to the dead letters",
		"id", l.Item.ID, "group", l.Item.Group, "kind", l.Item.Kind, "attempts", l.Attempt, "reason", reason, "queue", q.dead.name)
	return nil
}

// sendDead puts d on the dead-letter queue, in a group of its own: the
// dead letters keep no order, and listing them must not wait on one.
func (q *Queue) sendDead(ctx context.Context, d queue.DeadItem) error {
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	id := dedupID(d.Item.ID + "\x00dead\x00" + strconv.Itoa(d.Attempts))
	_, err = q.client.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl: &q.dead.url, MessageBody: aws.String(string(body)),
		MessageGroupId: aws.String("dead:" + id), MessageDeduplicationId: aws.String(id),
	})
	if err != nil {
		return fmt.Errorf("SQS dead-letter queue %s: send: %w", q.dead.name, err)
	}
	return nil
}

// unreadable moves a message that is no strata item to the dead letters.
func (q *Queue) unreadable(ctx context.Context, m types.Message, why error) {
	receipt := aws.ToString(m.ReceiptHandle)
	d := queue.DeadItem{
		Item:     Item{ID: "sqs:" + aws.ToString(m.MessageId), Payload: []byte(aws.ToString(m.Body))},
		Enqueued: sentAt(m), Died: q.opts.Now().UTC(), Reason: "unreadable message: " + why.Error(),
	}
	d.Attempts, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	err := q.sendDead(ctx, d)
	if err == nil {
		err = q.remove(ctx, receipt)
	}
	if err != nil {
		q.log.Error("queue: cannot move an unreadable message to the dead letters", "message", aws.ToString(m.MessageId), "err", err)
		return
	}
	q.log.Error("queue: unreadable message moved to the dead letters", "message", aws.ToString(m.MessageId), "err", why)
}

// Dead implements queue.Queue by reading the dead-letter queue: it
// receives every message it can, then makes them visible again. A message
// SQS moved by itself (its last delivery was never settled) keeps its
// group, and SQS hands out one group's messages in order only, so of
// those, each group shows the first ten at most until they are removed.
func (q *Queue) Dead(ctx context.Context) ([]queue.DeadItem, error) {
	if err := q.check(ctx); err != nil {
		return nil, err
	}
	var (
		out      []queue.DeadItem
		receipts []string
		seen     = map[string]bool{}
	)
	defer func() { q.unhide(receipts) }()
	for {
		resp, err := q.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: &q.dead.url, MaxNumberOfMessages: 10, VisibilityTimeout: listVisibility,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return nil, fmt.Errorf("SQS dead-letter queue %s: receive: %w", q.dead.name, err)
		}
		fresh := 0
		for _, m := range resp.Messages {
			receipts = append(receipts, aws.ToString(m.ReceiptHandle))
			if id := aws.ToString(m.MessageId); !seen[id] {
				seen[id] = true
				fresh++
				out = append(out, q.deadItem(m))
			}
		}
		if fresh == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b queue.DeadItem) int { return cmp.Compare(died(a).UnixNano(), died(b).UnixNano()) })
	return out, nil
}

// deadItem reads a dead letter: one strata buried, or an item SQS moved.
func (q *Queue) deadItem(m types.Message) queue.DeadItem {
	body := []byte(aws.ToString(m.Body))
	var d queue.DeadItem
	if json.Unmarshal(body, &d) == nil && d.Item.ID != "" {
		return d
	}
	var it Item
	if json.Unmarshal(body, &it) != nil || it.ID == "" {
		it = Item{ID: "sqs:" + aws.ToString(m.MessageId), Payload: body}
	}
	return queue.DeadItem{
		Item: it, Attempts: q.maxReceive, Enqueued: sentAt(m),
		Reason: fmt.Sprintf("moved by SQS after %d deliveries that were never settled (the replicas handling it stopped)", q.maxReceive),
	}
}

func died(d queue.DeadItem) time.Time {
	if d.Died.IsZero() {
		return d.Enqueued
	}
	return d.Died
}

// unhide makes the dead letters Dead read visible again.
func (q *Queue) unhide(receipts []string) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	for chunk := range slices.Chunk(receipts, 10) {
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for i, r := range chunk {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r)}
		}
		if _, err := q.client.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.dead.url, Entries: entries}); err != nil {
			q.log.Warn("queue: dead letters stay hidden until their visibility times out", "queue", q.dead.name, "err", err)
		}
	}
}

// DeadLen implements queue.Queue from SQS's approximate counts.
func (q *Queue) DeadLen(ctx context.Context) (int, error) {
	if err := q.check(ctx); err != nil {
		return 0, err
	}
	return q.count(ctx, q.dead.url)
}

// count sums a queue's approximate counts of visible, in-flight and
// delayed messages.
func (q *Queue) count(ctx context.Context, url string) (int, error) {
	names := []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := q.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
	if err != nil {
		return 0, q.fail("count", err)
	}
	n := 0
	for _, a := range names {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		n += v
	}
	return n, nil
}
