package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Queue is a durable, deduplicating work queue with per-group ordering.
// Every method is safe for concurrent use.
type Queue interface {
	// Put stores item durably before it returns. accepted is false, with
	// a nil error, when an item with the same ID was put within the
	// deduplication window; the item is then dropped.
	Put(ctx context.Context, item Item) (accepted bool, err error)
	// Take blocks until an item is ready whose group has no item in flight,
	// and leases it to the caller. It returns ctx.Err() when ctx is done
	// first and ErrClosed when the queue closes.
	Take(ctx context.Context) (*Lease, error)
	// Ack removes a leased item for good: its work is done.
	Ack(ctx context.Context, l *Lease) error
	// Release puts a leased item back at its place in the queue, to be
	// taken again no sooner than retryAfter from now; its group stays
	// blocked until then. An item released after MaxAttempts deliveries
	// goes to the dead letters instead.
	Release(ctx context.Context, l *Lease, retryAfter time.Duration) error
	// Fail moves a leased item to the dead letters at once, with reason:
	// it can never be handled (its payload is unreadable, its work failed
	// for good). Its group goes on with the next item.
	Fail(ctx context.Context, l *Lease, reason string) error
	// Len counts the items pending and in flight.
	Len(ctx context.Context) (int, error)
	// Dead lists the items given up on, oldest first.
	Dead(ctx context.Context) ([]DeadItem, error)
	// DeadLen counts the items given up on, cheaply enough for a metric.
	DeadLen(ctx context.Context) (int, error)
	// Close stops the queue. Takers blocked in Take return ErrClosed.
	// Leases not acked or released by then are delivered again, as a new
	// attempt, after the queue is next opened.
	Close() error
}

// Item is one unit of work.
type Item struct {
	// ID identifies the item for deduplication (the webhook delivery ID).
	// Required.
	ID string `json:"id"`
	// Group orders items: those of one group are handed out one at a
	// time, in the order they were put (e.g. one merge request). An empty
	// Group puts the item in a group of its own.
	Group string `json:"group,omitempty"`
	// Kind tells the consumer how to decode Payload (e.g. "event").
	Kind    string `json:"kind,omitempty"`
	Payload []byte `json:"payload"`
}

// Lease is one delivery of an item to a taker. Pass it back to Ack or
// Release exactly once.
type Lease struct {
	Item Item
	// Attempt counts the deliveries of Item, this one included: 1 the
	// first time.
	Attempt int
	// Enqueued is when the item was put.
	Enqueued time.Time
	// Handle identifies this delivery to the implementation (SQS calls it
	// a receipt handle). Opaque to callers.
	Handle string
}

// DeadItem is an item the queue gave up on.
type DeadItem struct {
	Item     Item      `json:"item"`
	Attempts int       `json:"attempts"`
	Enqueued time.Time `json:"enqueued"`
	Died     time.Time `json:"died"`
	// Reason says why it was given up, for operators.
	Reason string `json:"reason"`
}

var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("queue: closed")
	// ErrLeaseLost is returned by Ack and Release for a lease that was
	// already acked or released, or that belongs to an earlier run of the
	// queue.
	ErrLeaseLost = errors.New("queue: lease no longer held")
)

// Dedup remembers item IDs for longer than a queue can itself: SQS drops
// a repeated deduplication ID for five minutes only, and silently. Every
// replica that puts items must share it.
type Dedup interface {
	// Seen reports whether id is remembered and has not expired.
	Seen(ctx context.Context, id string) (bool, error)
	// Remember records id until the time given.
	Remember(ctx context.Context, id string, until time.Time) error
}

// MaxIDLen bounds Item.ID, which becomes part of a database key.
const MaxIDLen = 1024

// Validate checks what every implementation requires of an item: an ID,
// no longer than MaxIDLen.
func (it Item) Validate() error {
	if it.ID == "" {
		return errors.New("queue: item has no ID; the ID deduplicates deliveries and is required")
	}
	if len(it.ID) > MaxIDLen {
		return fmt.Errorf("queue: item ID is %d bytes long, more than %d", len(it.ID), MaxIDLen)
	}
	return nil
}
