package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-iac/strata/runner/queue"
)

// pollWait is how long one ReceiveMessage waits for a message (SQS's
// longest long poll).
const pollWait = 20

// settleTimeout bounds the calls Close makes to give back held leases.
const settleTimeout = 5 * time.Second

func init() {
	queue.Register("sqs", "sqs://QUEUE.fifo (SQS FIFO queue)", func(ctx context.Context, target string, opts queue.Options) (queue.Queue, error) {
		return Open(ctx, target, opts)
	})
}

// Queue is a queue.Queue on an SQS FIFO queue and its dead-letter queue.
// Several Queues, in any number of processes, may share one SQS queue.
type Queue struct {
	client     *awssqs.Client
	name, url  string
	dead       deadQueue
	maxReceive int
	visible    time.Duration // the visibility timeout of a taken message, whole seconds
	opts       queue.Options
	log        *slog.Logger

	life context.Context // done when the queue closes
	end  context.CancelFunc

	mu     sync.Mutex
	held   map[string]*held // receipt handle → its live lease
	closed bool
	beats  sync.WaitGroup
}

// held is a lease this process holds and renews.
type held struct {
	item Item
	stop context.CancelFunc
	done chan struct{}
}

// Item is an alias kept short for this file.
type Item = queue.Item

var _ queue.Queue = (*Queue)(nil)

// Open opens the FIFO queue named name (QUEUE.fifo, the part of an sqs://
// URL after the scheme), which must exist with a redrive policy naming
// its dead-letter queue (EnsureQueue makes both). opts.Lease sets the
// visibility timeout of taken messages; opts.MaxAttempts is ignored: the
// redrive policy's maxReceiveCount is the queue's.
func Open(ctx context.Context, name string, opts queue.Options) (*Queue, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	client, err := newClient(ctx, "")
	if err != nil {
		return nil, err
	}
	url, err := queueURL(ctx, client, name, "")
	if err != nil {
		return nil, err
	}
	attrs, err := client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return nil, fmt.Errorf("SQS queue %s: %w", name, err)
	}
	if attrs.Attributes[string(types.QueueAttributeNameFifoQueue)] != "true" {
		return nil, fmt.Errorf("SQS queue %s is not a FIFO queue: strata needs one (create it with: strata setup aws --queue %s)", name, name)
	}
	rp, err := parseRedrive(attrs.Attributes[string(types.QueueAttributeNameRedrivePolicy)])
	if err != nil {
		return nil, fmt.Errorf("SQS queue %s: %w (strata setup aws --queue NAME creates a queue with one)", name, err)
	}
	deadName, account, err := nameFromARN(rp.DeadLetterTargetARN)
	if err != nil {
		return nil, fmt.Errorf("SQS queue %s: redrive policy: %w", name, err)
	}
	deadURL, err := queueURL(ctx, client, deadName, account)
	if err != nil {
		return nil, fmt.Errorf("the dead-letter queue of %s: %w", name, err)
	}
	life, end := context.WithCancel(context.Background())
	return &Queue{
		client: client, name: name, url: url,
		dead:       deadQueue{name: deadName, url: deadURL},
		maxReceive: rp.MaxReceiveCount,
		visible:    time.Duration(visibility(opts.Lease)) * time.Second,
		opts:       opts, log: opts.Logger,
		life: life, end: end,
		held: map[string]*held{},
	}, nil
}

// Put implements queue.Queue. With opts.Dedup, an ID remembered there is
// dropped (accepted false); otherwise only SQS's own five-minute window
// drops repeats, and it does so without saying: accepted is then true.
func (q *Queue) Put(ctx context.Context, item Item) (bool, error) {
	if err := item.Validate(); err != nil {
		return false, err
	}
	if err := q.check(ctx); err != nil {
		return false, err
	}
	if q.opts.Dedup != nil {
		seen, err := q.opts.Dedup.Seen(ctx, item.ID)
		if err != nil {
			return false, fmt.Errorf("SQS queue %s: deduplication: %w", q.name, err)
		}
		if seen {
			return false, nil
		}
	}
	body, err := json.Marshal(item)
	if err != nil {
		return false, err
	}
	if len(body) > maxBody {
		return false, fmt.Errorf("SQS queue %s: item %s is %d bytes, more than SQS's limit of %d", q.name, item.ID, len(body), maxBody)
	}
	_, err = q.client.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl:               &q.url,
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(groupID(item)),
		MessageDeduplicationId: aws.String(dedupID(item.ID)),
	})
	if err != nil {
		return false, q.fail("send", err)
	}
	if q.opts.Dedup != nil {
		// The item is queued whatever happens here; a failure only narrows
		// the deduplication window to SQS's five minutes for this ID.
		if err := q.opts.Dedup.Remember(ctx, item.ID, q.opts.Now().Add(q.opts.DedupWindow)); err != nil {
			q.log.Warn("queue: cannot remember a delivery for deduplication", "id", item.ID, "err", err)
		}
	}
	return true, nil
}

// Take implements queue.Queue: one long poll after another until a
// message comes. The message stays invisible to other consumers while
// this process renews its visibility, every third of the lease.
func (q *Queue) Take(ctx context.Context) (*queue.Lease, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(q.life, cancel)
	defer stop()
	for {
		if err := q.check(ctx); err != nil {
			return nil, err
		}
		out, err := q.client.ReceiveMessage(rctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    &q.url,
			MaxNumberOfMessages:         1,
			WaitTimeSeconds:             pollWait,
			VisibilityTimeout:           int32(q.visible / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if cerr := q.check(ctx); cerr != nil {
				return nil, cerr
			}
			return nil, q.fail("receive", err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		m := out.Messages[0]
		l, err := q.newLease(m)
		switch {
		case errors.Is(err, queue.ErrClosed):
			q.giveBack(aws.ToString(m.ReceiptHandle))
			return nil, err
		case err != nil:
			q.unreadable(ctx, m, err)
			continue
		}
		return l, nil
	}
}

// newLease turns a received message into a Lease and starts renewing it.
func (q *Queue) newLease(m types.Message) (*queue.Lease, error) {
	var item Item
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &item); err != nil || item.ID == "" {
		return nil, fmt.Errorf("not a strata queue item: %v", err)
	}
	attempt, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	receipt := aws.ToString(m.ReceiptHandle)
	l := &queue.Lease{Item: item, Attempt: attempt, Enqueued: sentAt(m), Handle: receipt}
	ctx, stop := context.WithCancel(q.life)
	h := &held{item: item, stop: stop, done: make(chan struct{})}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		stop()
		return nil, queue.ErrClosed
	}
	q.held[receipt] = h
	q.beats.Add(1)
	q.mu.Unlock()
	go q.renew(ctx, receipt, h)
	if attempt >= q.maxReceive {
		q.log.Warn("queue: last attempt of an item: SQS moves it to the dead-letter queue unless this delivery is settled",
			"id", item.ID, "group", item.Group, "kind", item.Kind, "attempt", attempt, "queue", q.dead.name)
	}
	return l, nil
}

// renew extends the visibility of a held message until its lease is
// settled or the queue closes. A renewal SQS refuses means the message
// is no longer this process's (it timed out and another consumer took it).
func (q *Queue) renew(ctx context.Context, receipt string, h *held) {
	defer q.beats.Done()
	defer close(h.done)
	t := time.NewTicker(q.visible / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := q.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
			QueueUrl: &q.url, ReceiptHandle: &receipt, VisibilityTimeout: int32(q.visible / time.Second),
		})
		switch {
		case err == nil || ctx.Err() != nil:
		case leaseGone(err):
			q.log.Error("queue: lost the lease of an item still being worked on; another replica may take it",
				"id", h.item.ID, "group", h.item.Group, "err", err)
			return
		default:
			q.log.Warn("queue: cannot renew the lease of an item; retrying", "id", h.item.ID, "err", err)
		}
	}
}

// claim takes the live lease of l away from its renewer, so that two
// settlements of one lease cannot both act. restore gives it back when
// the settlement failed.
func (q *Queue) claim(l *queue.Lease) (restore func(), err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, queue.ErrClosed
	}
	h, ok := q.held[l.Handle]
	if !ok {
		return nil, queue.ErrLeaseLost
	}
	delete(q.held, l.Handle)
	h.stop()
	<-h.done
	return func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.closed {
			return
		}
		ctx, stop := context.WithCancel(q.life)
		h2 := &held{item: h.item, stop: stop, done: make(chan struct{})}
		q.held[l.Handle] = h2
		q.beats.Add(1)
		go q.renew(ctx, l.Handle, h2)
	}, nil
}

// Ack implements queue.Queue.
func (q *Queue) Ack(ctx context.Context, l *queue.Lease) error {
	restore, err := q.claim(l)
	if err != nil {
		return err
	}
	if err := q.remove(ctx, l.Handle); err != nil {
		restore()
		return err
	}
	return nil
}

// Release implements queue.Queue: the message becomes visible again after
// retryAfter (whole seconds), and its group waits until then. A message
// delivered maxReceiveCount times goes to the dead-letter queue instead.
func (q *Queue) Release(ctx context.Context, l *queue.Lease, retryAfter time.Duration) error {
	restore, err := q.claim(l)
	if err != nil {
		return err
	}
	if l.Attempt >= q.maxReceive {
		err = q.bury(ctx, l, fmt.Sprintf("released after %d of %d attempts", l.Attempt, q.maxReceive))
	} else {
		_, err = q.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
			QueueUrl: &q.url, ReceiptHandle: &l.Handle, VisibilityTimeout: visibility(retryAfter),
		})
		if leaseGone(err) {
			return queue.ErrLeaseLost
		}
		if err != nil {
			err = q.fail("release", err)
		}
	}
	if err != nil {
		restore()
	}
	return err
}

// Fail implements queue.Queue.
func (q *Queue) Fail(ctx context.Context, l *queue.Lease, reason string) error {
	restore, err := q.claim(l)
	if err != nil {
		return err
	}
	if err := q.bury(ctx, l, reason); err != nil {
		restore()
		return err
	}
	return nil
}

// Len implements queue.Queue from SQS's approximate counts: messages
// visible, in flight and delayed.
func (q *Queue) Len(ctx context.Context) (int, error) {
	if err := q.check(ctx); err != nil {
		return 0, err
	}
	return q.count(ctx, q.url)
}

// Close implements queue.Queue. Leases still held become visible again at
// once, so another replica takes them as their next attempt.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	leases := q.held
	q.held = map[string]*held{}
	q.mu.Unlock()
	q.end()
	q.beats.Wait()
	for receipt := range leases {
		q.giveBack(receipt)
	}
	return nil
}

// giveBack makes a message this process no longer works on visible at
// once, for another replica to take.
func (q *Queue) giveBack(receipt string) {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	_, err := q.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl: &q.url, ReceiptHandle: &receipt, VisibilityTimeout: 0,
	})
	if err != nil && !leaseGone(err) {
		q.log.Warn("queue: cannot give a lease back; it returns when its visibility times out", "queue", q.name, "err", err)
	}
}

// remove deletes a message by its receipt handle.
func (q *Queue) remove(ctx context.Context, receipt string) error {
	_, err := q.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &receipt})
	if leaseGone(err) {
		return queue.ErrLeaseLost
	}
	if err != nil {
		return q.fail("delete", err)
	}
	return nil
}

// check returns ctx.Err() or ErrClosed.
func (q *Queue) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queue.ErrClosed
	}
	return nil
}

func (q *Queue) fail(op string, err error) error {
	return fmt.Errorf("SQS queue %s: %s: %w", q.name, op, err)
}

// leaseGone reports whether SQS refused a receipt handle: the message was
// deleted, or its visibility timed out and another consumer received it.
func leaseGone(err error) bool {
	var invalid *types.ReceiptHandleIsInvalid
	var notInFlight *types.MessageNotInflight
	return err != nil && (errors.As(err, &invalid) || errors.As(err, &notInFlight))
}
