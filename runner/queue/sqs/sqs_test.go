package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/strata-iac/strata/internal/motoserver"
	"github.com/strata-iac/strata/runner/lock/dynamodb"
	"github.com/strata-iac/strata/runner/queue"
	"github.com/strata-iac/strata/runner/queue/queuetest"
	"github.com/strata-iac/strata/runner/queue/sqs"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

var names atomic.Int64

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newQueue creates a fresh FIFO queue and its dead-letter queue on the
// shared moto server.
func newQueue(t *testing.T, maxReceive int) string {
	t.Helper()
	motoserver.Shared(t)
	s, err := sqs.EnsureQueue(t.Context(), fmt.Sprintf("strata-events-%d", names.Add(1)), "", maxReceive)
	if err != nil {
		t.Fatal(err)
	}
	return s.Name
}

// dedup is the delivery memory the server gives the queue: the lock
// table in DynamoDB.
func dedup(t *testing.T) queue.Dedup {
	t.Helper()
	table := fmt.Sprintf("strata-locks-%d", names.Add(1))
	if _, err := dynamodb.EnsureTable(t.Context(), table, ""); err != nil {
		t.Fatal(err)
	}
	d, err := dynamodb.NewDedup(t.Context(), table)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func openQueue(t *testing.T, name string, opts queue.Options) queue.Queue {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	q, err := queue.Open(t.Context(), "sqs://"+name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Suite{
		Shared: true,
		Settle: 700 * time.Millisecond,
		New: func(t *testing.T, maxAttempts int) func() queue.Queue {
			name := newQueue(t, maxAttempts)
			d := dedup(t)
			return func() queue.Queue { return openQueue(t, name, queue.Options{Lease: 3 * time.Second, Dedup: d}) }
		},
	})
}

func rawClient(t *testing.T) *awssqs.Client {
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return awssqs.NewFromConfig(cfg)
}

func queueURL(t *testing.T, c *awssqs.Client, name string) string {
	out, err := c.GetQueueUrl(t.Context(), &awssqs.GetQueueUrlInput{QueueName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// TestLeaseIsRenewed: a message held longer than its visibility timeout
// stays with its holder: no other replica gets it, and once acked it is
// gone for good.
func TestLeaseIsRenewed(t *testing.T) {
	name := newQueue(t, 5)
	a := openQueue(t, name, queue.Options{Lease: 2 * time.Second})
	b := openQueue(t, name, queue.Options{Lease: 2 * time.Second})
	if ok, err := a.Put(t.Context(), queue.Item{ID: "long", Group: "mr!1", Payload: []byte("{}")}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	l, err := a.Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Second)
	defer cancel()
	if got, err := b.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("another replica took %+v (%v) while the first held it for three visibility timeouts", got, err)
	}
	if err := a.Ack(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Len(t.Context()); err != nil || n != 0 {
		t.Fatalf("Len after ack = %d, %v", n, err)
	}
}

// TestDeadReplicasMessageReappears: a consumer that received a message
// and died (it never renews nor deletes it) loses it after the visibility
// timeout; a replica then takes it as its second attempt.
func TestDeadReplicasMessageReappears(t *testing.T) {
	name := newQueue(t, 5)
	q := openQueue(t, name, queue.Options{Lease: 2 * time.Second})
	if ok, err := q.Put(t.Context(), queue.Item{ID: "orphan", Group: "mr!2", Kind: "event", Payload: []byte("{}")}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	raw := rawClient(t)
	url := queueURL(t, raw, name)
	got, err := raw.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 2})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("the dying replica's receive = %v, %v", got, err)
	}
	start := time.Now()
	l, err := q.Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.Item.ID != "orphan" || l.Attempt != 2 || time.Since(start) < time.Second {
		t.Fatalf("took %s#%d after %v, want orphan#2 after the dead replica's visibility timeout", l.Item.ID, l.Attempt, time.Since(start))
	}
}

// TestWithoutDedupOnlySQSDrops: without a delivery memory, a repeat is
// dropped by SQS within its window, silently (accepted is true), and a
// repeat after the first copy was deleted is queued again (moto, like SQS
// past five minutes). This is why the server gives the queue one.
func TestWithoutDedupOnlySQSDrops(t *testing.T) {
	name := newQueue(t, 5)
	q := openQueue(t, name, queue.Options{})
	for range 2 {
		if ok, err := q.Put(t.Context(), queue.Item{ID: "d1", Group: "A"}); err != nil || !ok {
			t.Fatalf("Put = %v, %v", ok, err)
		}
	}
	if n, _ := q.Len(t.Context()); n != 1 {
		t.Fatalf("Len = %d after two copies, want 1: SQS drops the second", n)
	}
	l, err := q.Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	if ok, err := q.Put(t.Context(), queue.Item{ID: "d1", Group: "A"}); err != nil || !ok {
		t.Fatalf("Put = %v, %v", ok, err)
	}
	if n, _ := q.Len(t.Context()); n != 1 {
		t.Fatalf("Len = %d, want the repeat queued again", n)
	}
}

// TestLongGroupsAndIDs: groups and IDs beyond SQS's limits on
// MessageGroupId and MessageDeduplicationId (128 characters, a narrow
// alphabet) still order and deduplicate.
func TestLongGroupsAndIDs(t *testing.T) {
	name := newQueue(t, 5)
	q := openQueue(t, name, queue.Options{Dedup: dedup(t)})
	group := "gitlab/" + strings.Repeat("deeply/nested/", 12) + "project!7 ünïcode"
	id := "gitlab:" + strings.Repeat("delivery-", 40)
	for _, it := range []queue.Item{{ID: id, Group: group}, {ID: id + "2", Group: group}} {
		if ok, err := q.Put(t.Context(), it); err != nil || !ok {
			t.Fatalf("Put = %v, %v", ok, err)
		}
	}
	if ok, err := q.Put(t.Context(), queue.Item{ID: id, Group: group}); ok || err != nil {
		t.Fatalf("repeat of a long ID = %v, %v; want dropped", ok, err)
	}
	l, err := q.Take(t.Context())
	if err != nil || l.Item.ID != id || l.Item.Group != group {
		t.Fatalf("took %+v, %v", l, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if next, err := q.Take(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("took %+v while its group's first item is held", next)
	}
}

func TestOversizedItemIsRefused(t *testing.T) {
	q := openQueue(t, newQueue(t, 5), queue.Options{})
	_, err := q.Put(t.Context(), queue.Item{ID: "big", Payload: make([]byte, 300<<10)})
	if err == nil || !strings.Contains(err.Error(), "SQS's limit") {
		t.Fatalf("Put of 300 KiB = %v, want an error naming SQS's limit", err)
	}
}

func TestEnsureQueueIsIdempotent(t *testing.T) {
	motoserver.Shared(t)
	base := fmt.Sprintf("strata-setup-%d", names.Add(1))
	first, err := sqs.EnsureQueue(t.Context(), base, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := sqs.Setup{Name: base + ".fifo", DeadName: base + "-dead-letters.fifo", Region: motoserver.Region,
		Created: true, DeadCreated: true, MaxReceiveCount: sqs.DefaultMaxReceiveCount}
	if first != want {
		t.Errorf("first EnsureQueue = %+v, want %+v", first, want)
	}
	second, err := sqs.EnsureQueue(t.Context(), base+".fifo", "", 9)
	want.Created, want.DeadCreated = false, false
	if err != nil || second != want {
		t.Errorf("second EnsureQueue = %+v, %v; want %+v (found, left as they were)", second, err, want)
	}
	raw := rawClient(t)
	for _, n := range []string{want.Name, want.DeadName} {
		url := queueURL(t, raw, n)
		out, err := raw.GetQueueAttributes(t.Context(), &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attributes["FifoQueue"] != "true" || out.Attributes["MessageRetentionPeriod"] != "1209600" {
			t.Errorf("%s attributes %v, want FIFO with 14 days' retention", n, out.Attributes)
		}
		if n == want.Name && !strings.Contains(out.Attributes["RedrivePolicy"], want.DeadName) {
			t.Errorf("%s redrive policy %q, want its dead-letter queue", n, out.Attributes["RedrivePolicy"])
		}
	}
}

func TestOpenErrors(t *testing.T) {
	motoserver.Shared(t)
	raw := rawClient(t)
	plain := fmt.Sprintf("strata-plain-%d", names.Add(1))
	if _, err := raw.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String(plain)}); err != nil {
		t.Fatal(err)
	}
	noDLQ := fmt.Sprintf("strata-nodlq-%d.fifo", names.Add(1))
	if _, err := raw.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: &noDLQ, Attributes: map[string]string{"FifoQueue": "true"}}); err != nil {
		t.Fatal(err)
	}
	for url, want := range map[string]string{
		"sqs://no-such-queue.fifo": "not found (create it with: strata setup aws --queue no-such-queue.fifo)",
		"sqs://" + plain:           "FIFO queue",
		"sqs://" + noDLQ:           "no redrive policy",
		"sqs://bad name.fifo":      "bad SQS queue name",
	} {
		if _, err := queue.Open(t.Context(), url, queue.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", url, err, want)
		}
	}
}
